"""The answer the connector gives when no switch could be reached: what a switch answers when the host is down.

The claim certainly never left, so it is a transmission-level rejection with 511-FB 92 (host unavailable),
which the hub resends later like any transient reject; no reversal is needed.
"""

from __future__ import annotations

from adapters.ncpdp.d0.claim_request import read_claim_request
from adapters.ncpdp.d0.claim_response import ClaimResponse, TransactionResponse, build_claim_response
from adapters.ncpdp.d0.parser import parse_request
from adapters.ncpdp.d0.response_segments import ResponseStatusSegment
from hub.domain.claim_codes import HOST_UNAVAILABLE_CODE
from hub.errors import MessageContentError


def not_sent_answer(request: bytes, why: str) -> bytes | None:
    """A D.0 response rejecting the whole transmission with 92; None when the request cannot be read."""
    try:
        claim = read_claim_request(parse_request(request))
    except MessageContentError:
        return None
    status = ResponseStatusSegment(
        transaction_status="R", reject_codes=(HOST_UNAVAILABLE_CODE,), message_lines=(why.upper()[:40],)
    )
    count = max(len(claim.transactions), 1)
    response = ClaimResponse(
        transaction_code=claim.transaction_code,
        header_response_status="R",
        service_provider_id_qualifier=claim.service_provider_id_qualifier,
        service_provider_id=claim.service_provider_id,
        date_of_service=claim.date_of_service,
        transactions=tuple(TransactionResponse(status=status) for _ in range(count)),
    )
    return build_claim_response(response)
