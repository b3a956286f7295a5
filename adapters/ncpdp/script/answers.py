"""Answers to an inbound SCRIPT request: Status, Error and CancelRxResponse (standards.md §3.1).

Every answer sets RelatesToMessageID to the request's MessageID and swaps To/From, in the request's
namespace and version style. Which code to answer with is ``error_code_for``'s call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.ncpdp.script.codes import ERROR_CODES, STATUS_CODES
from adapters.ncpdp.script.message import ScriptHeader, ScriptMessage
from adapters.ncpdp.script.xml_writer import (
    add,
    add_optional,
    answer_routing,
    new_message,
    serialize,
    write_header,
)
from hub.errors import InboundMessageError, InfrastructureError, TransientError

#: Status/Description is an1..70 (transport.xsd)
_STATUS_DESCRIPTION_MAX = 70


def status_response(
    request_header: ScriptHeader,
    code: str = "010",
    *,
    message_id: str,
    now: datetime,
    description: str | None = None,
) -> bytes:
    """Status (010: accepted by the ultimate receiver), sent only once the command is durably published."""
    if code not in STATUS_CODES:
        raise ValueError(f"{code!r} is not a SCRIPT Status code")
    root = _answer(request_header, message_id, now)
    status = add(add(root, "Body"), "Status")
    add(status, "Code", code)
    add_optional(status, "Description", description[:_STATUS_DESCRIPTION_MAX] if description else None)
    return serialize(root)


def error_response(
    request_header: ScriptHeader | None,
    code: str,
    description_code: str | None,
    description: str,
    *,
    message_id: str,
    now: datetime,
) -> bytes:
    """Error: 900 rejected (bad message), 601 unable to process now, 602 system error, 600, 700."""
    if code not in ERROR_CODES:
        raise ValueError(f"{code!r} is not a SCRIPT Error code")
    root = _answer(request_header, message_id, now)
    error = add(add(root, "Body"), "Error")
    add(error, "Code", code)
    add_optional(error, "DescriptionCode", description_code)
    add(error, "Description", description)
    return serialize(root)


def cancel_rx_response(
    request: ScriptMessage,
    approved: bool,
    denial_reason: str | None,
    *,
    message_id: str,
    now: datetime,
    reason_code: str | None = None,
    note: str | None = None,
    rx_number: str | None = None,
) -> bytes:
    """CancelRxResponse: Approved, or Denied (e.g. already dispensed) with ReasonCode and/or DenialReason."""
    if request.kind != "CancelRx":
        raise ValueError(f"a CancelRxResponse answers a CancelRx, not {request.kind}")
    if not approved and not (denial_reason or reason_code):
        # script.xsd: a Denied must carry a ReasonCode or a DenialReason, or both
        raise ValueError("a denied CancelRxResponse needs a denial_reason or a reason_code")
    header = request.header
    root = _answer(
        header,
        message_id,
        now,
        rx_number=rx_number or header.rx_reference_number,
        prescriber_order_number=header.prescriber_order_number,
    )
    answer = add(add(root, "Body"), "CancelRxResponse")
    add_optional(answer, "RequestReferenceNumber", request.body.text_at("RequestReferenceNumber"))
    response = add(answer, "Response")
    if approved:
        add_optional(add(response, "Approved"), "Note", note)
    else:
        denied = add(response, "Denied")
        add_optional(denied, "ReasonCode", reason_code)
        add_optional(denied, "DenialReason", denial_reason)
    return serialize(root)


def error_code_for(exc: BaseException) -> str:
    """The Error code for a failure: 900 bad message, 601 hub cannot take it now, 602 anything else."""
    if isinstance(exc, InboundMessageError):
        return "900"
    if isinstance(exc, TransientError | InfrastructureError):
        return "601"
    return "602"


def describe(exc: InboundMessageError) -> str:
    """A clear Error/Description: each problem with its location."""
    parts = [f"{p.location}: {p.text}" if p.location else p.text for p in exc.problems]
    return "; ".join(parts) or str(exc)


def _answer(
    request: ScriptHeader | None,
    message_id: str,
    now: datetime,
    *,
    rx_number: str | None = None,
    prescriber_order_number: str | None = None,
) -> Any:
    root = new_message(request)
    write_header(
        root,
        answer_routing(request),
        message_id=message_id,
        now=now,
        relates_to=request.message_id if request is not None else None,
        version=request.version if request is not None else "2017071",
        rx_reference_number=rx_number,
        prescriber_order_number=prescriber_order_number,
    )
    return root
