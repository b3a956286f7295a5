"""Turn what is wrong with a D.0 transmission into the hub's MessageContentError with a reject code."""

from __future__ import annotations

from pydantic import ValidationError

from hub.domain.claim_codes import SYNTAX_ERROR_CODE
from hub.errors import MessageContentError, Problem


def content_error(code: str, text: str, location: str = "") -> MessageContentError:
    """One-problem MessageContentError; ``location`` is a field id (``C2``) or a segment id (``AM07``)."""
    return MessageContentError(text, [Problem(code=code, text=text, location=location)])


def from_validation(
    exc: ValidationError, where: str, codes: dict[str, tuple[str, str]], offsets: dict[str, int] | None = None
) -> MessageContentError:
    """Translate pydantic's errors; ``codes`` maps a model attribute to (field id, reject code)."""
    problems = []
    for error in exc.errors():
        attr = str(error["loc"][0]) if error["loc"] else ""
        field_id, code = codes.get(attr, (attr, SYNTAX_ERROR_CODE))
        at = f" at offset {offsets[attr]}" if offsets and attr in offsets else ""
        text = f"{where}: field {field_id}{at}: {error['msg']}"
        problems.append(Problem(code=code, text=text, location=field_id))
    return MessageContentError(problems[0].text if problems else where, problems or None)
