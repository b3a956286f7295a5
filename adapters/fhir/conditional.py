"""Conditional create (R4 http.html §conditional-create): the ``If-None-Exist`` search the hub understands.

Only ``identifier`` is searchable, as a token: ``system|value`` matches that system exactly; ``value``
or ``|value`` match the value under any system (R4 search §token says ``|value`` means "no system";
orders without a system are rare and a wider match can only prevent a duplicate, never create one).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from hub.domain.order_parts import Frozen
from hub.errors import MessageContentError, Problem, UnsupportedMessageError

SEARCH_PARAMETER = "identifier"


class IdentifierToken(Frozen):
    """An identifier search: a value, under one system or (None) under any."""

    value: str
    system: str | None = None


def _refuse(text: str, where: str) -> MessageContentError:
    return MessageContentError(text, [Problem("invalid", f"{where}: {text}", "", "error")])


def identifier_token(token: str, *, where: str) -> IdentifierToken:
    """Read a token search value (``system|value``, ``|value`` or ``value``)."""
    system, bar, value = token.partition("|")
    if not bar:
        system, value = "", token
    if not value.strip():
        raise _refuse("the identifier search needs a value (system|value)", where)
    return IdentifierToken(value=value, system=system or None)


def if_none_exist(header: str, *, where: str = "If-None-Exist") -> IdentifierToken:
    """The identifier an ``If-None-Exist`` header (or a Bundle entry's request.ifNoneExist) searches for."""
    query = header.strip().split("?", 1)[-1]
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise _refuse(f"not a search query: {exc}", where) from exc
    names = sorted({name for name, _ in pairs})
    if names != [SEARCH_PARAMETER] or len(pairs) != 1:
        text = f"only one '{SEARCH_PARAMETER}' search is supported here, got {', '.join(names) or 'nothing'}"
        raise UnsupportedMessageError(text, [Problem("not-supported", f"{where}: {text}", "", "error")])
    return identifier_token(pairs[0][1], where=where)
