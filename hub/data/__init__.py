"""Reference data shipped inside the package: drug catalogue, interaction table, payer simulator plan, examples.

A package rather than a folder beside the source tree so that a wheel carries it (``importlib.resources``);
an operator replaces a file through its setting (``RXHUB_CATALOGUE_PATH`` and the like), never by editing here.
"""
