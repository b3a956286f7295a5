"""Identifier.type as R4 expects it: a v2-0203 coding only for a code that table defines.

Senders' type codes are kept as sent (HL7 CX.5, SCRIPT element names, the hub's own ``fhir-reference``);
a code outside HL7 table 0203 (v2.9, as published with the R4 terminology) is shown in the hub's own code
system or as text, never claimed for v2-0203.
"""

from __future__ import annotations

from typing import Any

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
#: the hub's code system for identifier types it invents (``fhir-reference``: an external literal reference)
HUB_IDENTIFIER_TYPE = "urn:rxhub:identifier-type"
HUB_TYPES = {"fhir-reference": "FHIR reference kept as the sender wrote it"}
_V2_0203_TABLE = """
AC ACSN AM AMA AN ANC AND ANON ANT APRN ASID BA BC BCFN BCT BR BRN BSNR CC CONM CY CZ DC DCFN DDS DEA DFN DI DL DN
DO DP DPM DR DS EI EN ESN FDR FDRFN FI FILL GI GL GN HC IND JHN LACSN LANR LI LN LR MA MB MC MCD MCN MCR MCT MD MI
MR MRT MS NBSNR NCT NE NH NI NII NIIP NNxxx NP NPI OBI OD PA PC PCN PE PEN PHC PHE PHO PI PLAC PN PNT PPIN PPN PRC
PRN PT QA RI RN RPH RR RRI RRP SB SID SL SN SNBSN SNO SP SR SS STN TAX TN TPR TRL U UDI UPIN USID VN VP VS WC WCN WP
XV XX
"""
V2_0203_CODES = frozenset(_V2_0203_TABLE.split())


def identifier_type(code: str) -> dict[str, Any]:
    """The CodeableConcept for a type code as a sender gave it (or the hub assigned it)."""
    if code in V2_0203_CODES:
        return {"coding": [{"system": V2_0203, "code": code}]}
    if code in HUB_TYPES:
        return {"coding": [{"system": HUB_IDENTIFIER_TYPE, "code": code, "display": HUB_TYPES[code]}]}
    return {"text": code}
