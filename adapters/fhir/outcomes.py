"""OperationOutcome JSON from hub Problems, the HTTP status for an error, and problems -> error.

Status codes follow FHIR R4 http.html: 400 when the content could not be parsed or fails basic R4
validation (structure, required, value, invariant...), 422 when it is valid FHIR that the pharmacy
will not act on (business rules, unsupported content, references we cannot follow), 404/409/403 for
domain refusals, 503 for anything worth retrying.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.fhir.fhir_strings import CONTROL
from hub.errors import (
    ControlIdInUse,
    ControlIdReused,
    DomainError,
    IllegalTransition,
    InboundMessageError,
    InfrastructureError,
    MessageContentError,
    NotAuthorized,
    NotFound,
    Problem,
    TransientError,
    UnsupportedMessageError,
)

#: R4 IssueType codes (http://hl7.org/fhir/issue-type); anything else is reported as "processing"
ISSUE_TYPES = frozenset(
    {
        "invalid",
        "structure",
        "required",
        "value",
        "invariant",
        "security",
        "login",
        "unknown",
        "expired",
        "forbidden",
        "suppressed",
        "processing",
        "not-supported",
        "duplicate",
        "multiple-matches",
        "not-found",
        "deleted",
        "too-long",
        "code-invalid",
        "extension",
        "too-costly",
        "business-rule",
        "conflict",
        "transient",
        "lock-error",
        "no-store",
        "exception",
        "timeout",
        "incomplete",
        "throttled",
        "informational",
    }
)
#: issue types that mean "this is not well-formed R4": HTTP 400 rather than 422
MALFORMED = frozenset(
    {"invalid", "structure", "required", "value", "invariant", "code-invalid", "too-long", "extension"}
)

_ERROR_CODES: tuple[tuple[type[Exception], str], ...] = (
    (NotFound, "not-found"),
    (NotAuthorized, "forbidden"),
    (IllegalTransition, "conflict"),
    (ControlIdInUse, "conflict"),
    (ControlIdReused, "duplicate"),
    (DomainError, "business-rule"),
    (TransientError, "transient"),
    (InfrastructureError, "transient"),
)
_SEVERITY = {"F": "fatal", "E": "error", "W": "warning", "I": "information"}
_SEVERITIES = frozenset(_SEVERITY.values())


def _severity(problem: Problem) -> str:
    if problem.severity in _SEVERITIES:
        return problem.severity
    return _SEVERITY.get(problem.severity.upper()[:1], "error")


def _issue(problem: Problem) -> dict[str, Any]:
    code = problem.code if problem.code in ISSUE_TYPES else "processing"
    issue: dict[str, Any] = {"severity": _severity(problem), "code": code}
    # a problem may quote what the client sent: control characters are no FHIR string (R4 datatypes)
    text = CONTROL.sub("\ufffd", problem.text).strip() or code
    issue["details"] = {"text": text}
    issue["diagnostics"] = text
    if location := CONTROL.sub("\ufffd", problem.location).strip():
        issue["expression"] = [location]
    return issue


def operation_outcome(problems: Sequence[Problem]) -> dict[str, Any]:
    """An R4 OperationOutcome for these problems (one issue each; at least one issue, as R4 requires)."""
    issues = [_issue(p) for p in problems] or [
        {
            "severity": "information",
            "code": "informational",
            "details": {"text": "All OK"},
            "diagnostics": "All OK",
        }
    ]
    return {"resourceType": "OperationOutcome", "issue": issues}


def _issue_code(error: Exception) -> str:
    for kind, code in _ERROR_CODES:
        if isinstance(error, kind):
            return code
    return "exception"


def outcome_for(error: Exception) -> dict[str, Any]:
    """The OperationOutcome answering any error the FHIR endpoints can meet."""
    if isinstance(error, InboundMessageError):
        return operation_outcome(error.problems)
    location = error.location if isinstance(error, NotFound | ControlIdReused) else ""
    return operation_outcome([Problem(_issue_code(error), str(error) or type(error).__name__, location, "error")])


def http_status_for(error: Exception) -> int:
    """The HTTP status a FHIR endpoint answers this error with."""
    if isinstance(error, InboundMessageError):
        return 400 if any(p.code in MALFORMED for p in error.problems) else 422
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, NotAuthorized):
        return 403
    if isinstance(error, IllegalTransition | ControlIdInUse | ControlIdReused):
        return 409
    if isinstance(error, DomainError):
        return 422
    if isinstance(error, TransientError | InfrastructureError):
        return 503
    return 500


def error_for(problems: Sequence[Problem], *, control_id: str = "") -> InboundMessageError:
    """The error to raise for these problems: unsupported when every one is ``not-supported``."""
    listed = list(problems)
    summary = "; ".join(p.text for p in listed[:3]) + (f" (+{len(listed) - 3} more)" if len(listed) > 3 else "")
    if listed and all(p.code == "not-supported" for p in listed):
        return UnsupportedMessageError(summary, listed, control_id)
    return MessageContentError(summary or "invalid FHIR content", listed, control_id)
