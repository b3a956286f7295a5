"""RxHub benchmarks (``make bench``): raw broker baseline, HL7 ingest over MLLP, parse costs, sustained run.

Never collected by pytest; every run also proves that no acknowledged message was lost.
"""
