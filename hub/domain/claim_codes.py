"""The claim codes the hub acts on, each defined once: NCPDP 511-FB reject codes and the hub's own codes.

A payer answers a rejected claim with 511-FB codes (the full list is NCPDP's licensed External Code List;
``adapters.ncpdp.d0.reject_codes`` describes the common ones for people). The hub decides on a few of them
(retry, a pharmacist's DUR/PPS answer, nothing to reverse), and the adapters and simulators answer with
them, so both sides read them from here. The exception queue also shows codes of the hub's own, for what
no payer said: no answer in time, never sent, reversed late by the payer.
"""

from __future__ import annotations

#: 88: DUR reject, answered with DUR/PPS codes, a pharmacist's clinical decision (standards §4.4)
DUR_REJECT_CODE = "88"
#: 87: reversal not processed (the payer has no paid claim to reverse)
NOTHING_TO_REVERSE_CODE = "87"
#: 92: system or host unavailable (a switch's answer when the payer cannot be reached)
HOST_UNAVAILABLE_CODE = "92"
#: R8: syntax error (a transmission the receiver cannot read)
SYNTAX_ERROR_CODE = "R8"

#: payer or switch trouble, not a verdict on the claim (standards §4.4): 92 host unavailable, 99 host
#: processing error, 85 claim not processed
TRANSIENT_REJECT_CODES = frozenset({HOST_UNAVAILABLE_CODE, "99", "85"})

#: the hub's own code: a late reversal by the payer undid a paid claim, which must be rebilled
PAYER_REVERSED_CODE = "RV"
#: the hub's own code: the payer never answered in time (the claim is reversed before any resubmission)
NO_ANSWER_CODE = "TO"
#: the hub's own code: no payer connector took the claim at all
NOT_DELIVERED_CODE = "ND"
