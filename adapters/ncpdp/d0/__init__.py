"""NCPDP Telecommunication D.0 codec: bytes <-> ordered raw segments <-> typed claim requests and responses.

Two layers: ``parse_*``/``build_transmission`` are lossless over the raw model (unknown segments and fields
and repeats kept in order); ``read_*``/``build_claim_*`` give the typed views the hub works with. Every
parse failure is a ``hub.errors.MessageContentError`` carrying an NCPDP reject code.
"""

from adapters.ncpdp.d0.amounts import decode_overpunch, decode_quantity, encode_overpunch, encode_quantity
from adapters.ncpdp.d0.batch import Batch, BatchDetail, build_batch_file, is_batch, parse_batch_file
from adapters.ncpdp.d0.builder import build_transmission
from adapters.ncpdp.d0.claim_request import (
    ClaimRequest,
    ClaimTransaction,
    build_claim_request,
    claim_request_transmission,
    read_claim_request,
)
from adapters.ncpdp.d0.claim_response import (
    ClaimResponse,
    TransactionResponse,
    build_claim_response,
    claim_response_transmission,
    read_claim_response,
    response_to,
)
from adapters.ncpdp.d0.model import (
    RequestHeader,
    RequestTransmission,
    ResponseHeader,
    ResponseTransmission,
    Segment,
    TransactionGroup,
)
from adapters.ncpdp.d0.parser import parse_request, parse_response, parse_transmission
from adapters.ncpdp.d0.reject_codes import REJECT_CODES, RejectCategory, RejectCode, describe_reject

__all__ = [
    "REJECT_CODES",
    "Batch",
    "BatchDetail",
    "ClaimRequest",
    "ClaimResponse",
    "ClaimTransaction",
    "RejectCategory",
    "RejectCode",
    "RequestHeader",
    "RequestTransmission",
    "ResponseHeader",
    "ResponseTransmission",
    "Segment",
    "TransactionGroup",
    "TransactionResponse",
    "build_batch_file",
    "build_claim_request",
    "build_claim_response",
    "build_transmission",
    "claim_request_transmission",
    "claim_response_transmission",
    "decode_overpunch",
    "decode_quantity",
    "describe_reject",
    "encode_overpunch",
    "encode_quantity",
    "is_batch",
    "parse_batch_file",
    "parse_request",
    "parse_response",
    "parse_transmission",
    "read_claim_request",
    "read_claim_response",
    "response_to",
]
