"""D.0 transmission model -> bytes: the exact inverse of ``parser`` for well-formed input."""

from __future__ import annotations

from datetime import date

from adapters.ncpdp.d0.model import (
    END_OF_TEXT,
    FIELD_SEPARATOR,
    GROUP_SEPARATOR,
    SEGMENT_ID_FIELD,
    SEGMENT_SEPARATOR,
    RequestHeader,
    RequestTransmission,
    ResponseHeader,
    ResponseTransmission,
    Segment,
    TransactionGroup,
)


def build_transmission(transmission: RequestTransmission | ResponseTransmission) -> bytes:
    """Serialise a request or a response, ready to send."""
    if isinstance(transmission, RequestTransmission):
        head = request_header_text(transmission.header)
    else:
        head = response_header_text(transmission.header)
    body = "".join(segment_text(s) for s in transmission.segments)
    body += "".join(_group_text(g) for g in transmission.groups)
    return (head + body + (END_OF_TEXT if transmission.end_of_text else "")).encode("ascii")


def request_header_text(header: RequestHeader) -> str:
    """The 56-character request header, fields left-justified and space-padded."""
    return (
        header.bin.ljust(6)
        + header.version
        + header.transaction_code
        + header.processor_control_number.ljust(10)
        + str(header.transaction_count)
        + header.service_provider_id_qualifier.ljust(2)
        + header.service_provider_id.ljust(15)
        + ccyymmdd(header.date_of_service)
        + header.software_vendor_id.ljust(10)
    )


def response_header_text(header: ResponseHeader) -> str:
    """The 31-character response header."""
    return (
        header.version
        + header.transaction_code
        + str(header.transaction_count)
        + header.header_response_status
        + header.service_provider_id_qualifier.ljust(2)
        + header.service_provider_id.ljust(15)
        + ccyymmdd(header.date_of_service)
    )


def segment_text(segment: Segment) -> str:
    """One segment: RS, then FS before the AMnn id and before each field."""
    fields = [(SEGMENT_ID_FIELD, segment.segment_id), *segment.fields]
    return SEGMENT_SEPARATOR + "".join(FIELD_SEPARATOR + fid + value for fid, value in fields)


def ccyymmdd(day: date) -> str:
    """A date in the D.0 CCYYMMDD form."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _group_text(group: TransactionGroup) -> str:
    return GROUP_SEPARATOR + "".join(segment_text(s) for s in group.segments)
