"""NCPDP SCRIPT adapter (2017071, 2023011, 10.6): SCRIPT XML in -> hub commands; answers and renewals out.

Pure functions only; the HTTP route that calls them lives in ``hub.entrypoints``.

    read_message(bytes) -> ScriptMessage        safe parse (no DTD/entities, size limit), header + kind
    to_command(ScriptMessage) -> Command        NewRx, CancelRx, RxRenewalResponse; 900 otherwise
    status_response / error_response            transport answers (010; 900, 601, 602)
    cancel_rx_response                          CancelRxResponse Approved | Denied
    rx_renewal_request(RenewalRequestInput)     outbound RxRenewalRequest to the prescriber
"""

from adapters.ncpdp.script.answers import (
    cancel_rx_response,
    describe,
    error_code_for,
    error_response,
    status_response,
)
from adapters.ncpdp.script.codes import ACKNOWLEDGEMENT_KINDS, SCRIPT_NAMESPACE
from adapters.ncpdp.script.mapping import ACCEPTED_KINDS, to_command
from adapters.ncpdp.script.message import (
    ScriptHeader,
    ScriptMessage,
    command_message_id,
    dedupe_key,
    read_message,
)
from adapters.ncpdp.script.renewal_request import PharmacyIdentity, RenewalRequestInput, rx_renewal_request
from adapters.ncpdp.script.safe_xml import DEFAULT_MAX_BYTES
from adapters.ncpdp.script.xml_tree import XmlNode

__all__ = [
    "ACCEPTED_KINDS",
    "ACKNOWLEDGEMENT_KINDS",
    "DEFAULT_MAX_BYTES",
    "SCRIPT_NAMESPACE",
    "PharmacyIdentity",
    "RenewalRequestInput",
    "ScriptHeader",
    "ScriptMessage",
    "XmlNode",
    "cancel_rx_response",
    "command_message_id",
    "dedupe_key",
    "describe",
    "error_code_for",
    "error_response",
    "read_message",
    "rx_renewal_request",
    "status_response",
    "to_command",
]
