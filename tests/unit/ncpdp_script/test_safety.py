"""Hostile and broken XML is refused with a clear Error 900, never expanded, fetched or crashed on."""

from __future__ import annotations

import pytest

from adapters.ncpdp.script import read_message
from hub.errors import MessageContentError
from tests.unit.ncpdp_script.samples import NEWRX_2017071_FULL

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Message [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Message><Header><MessageID>&xxe;</MessageID></Header><Body><NewRx/></Body></Message>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Message><Header><MessageID>&lol4;</MessageID></Header><Body><NewRx/></Body></Message>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<Message/>"""


def refusal(body: bytes, **kwargs: int) -> str:
    with pytest.raises(MessageContentError) as exc:
        read_message(body, **kwargs)
    [problem] = exc.value.problems
    assert problem.code == "900"
    return problem.text


@pytest.mark.parametrize("body", [XXE, BILLION_LAUGHS, PARAMETER_ENTITY])
def test_dtd_based_attacks_are_refused_outright(body: bytes) -> None:
    assert "DOCTYPE/ENTITY declarations are refused" in refusal(body)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_declarations_are_refused_in_any_encoding(encoding: str) -> None:
    text = BILLION_LAUGHS.decode().replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    body = text.encode(encoding)
    assert b"<!DOCTYPE" not in body  # the byte scan cannot see it; the parsed doctype can
    assert "refused" in refusal(body)


def test_plain_doctype_without_entities_is_refused_too() -> None:
    assert "DOCTYPE" in refusal(b"<!DOCTYPE Message><Message/>")


@pytest.mark.parametrize(
    "body",
    [b"", b"not xml", b"<Message><Header>", b"<Message></Mesage>", b"\xff\xfe\x00", b"<a>&undefined;</a>"],
)
def test_malformed_xml_is_a_900(body: bytes) -> None:
    assert "malformed XML" in refusal(body)


def test_size_limit() -> None:
    assert "more than the 100 accepted" in refusal(NEWRX_2017071_FULL, max_bytes=100)
    assert read_message(NEWRX_2017071_FULL, max_bytes=len(NEWRX_2017071_FULL)).kind == "NewRx"


def test_deep_nesting_is_refused() -> None:
    deep = b"<Message><Header><MessageID>1</MessageID></Header><Body>" + b"<a>" * 100 + b"</a>" * 100
    assert "nested" in refusal(deep + b"</Body></Message>")


def test_a_root_other_than_message_is_refused() -> None:
    assert "not a SCRIPT Message" in refusal(b"<Envelope/>")


@pytest.mark.parametrize(
    ("body", "location"),
    [
        (b"<Message><Body><NewRx/></Body></Message>", "Message/Header"),
        (b"<Message><Header/><Body><NewRx/></Body></Message>", "Message/Header/MessageID"),
        (
            b"<Message><Header><MessageID> </MessageID></Header><Body><NewRx/></Body></Message>",
            "Message/Header/MessageID",
        ),
        (
            b"<Message><Header><MessageID>" + b"9" * 36 + b"</MessageID></Header><Body><NewRx/></Body></Message>",
            "Message/Header/MessageID",
        ),
        (b"<Message><Header><MessageID>1</MessageID></Header></Message>", "Message/Body"),
        (b"<Message><Header><MessageID>1</MessageID></Header><Body/></Message>", "Message/Body"),
        (
            b"<Message><Header><MessageID>1</MessageID></Header><Body><NewRx/><CancelRx/></Body></Message>",
            "Message/Body",
        ),
    ],
)
def test_envelope_problems_name_their_location(body: bytes, location: str) -> None:
    with pytest.raises(MessageContentError) as exc:
        read_message(body)
    assert [p.location for p in exc.value.problems] == [location]


def test_comments_and_processing_instructions_are_ignored() -> None:
    body = NEWRX_2017071_FULL.replace(b"<Header>", b"<Header><!-- hi --><?pi x?>", 1)
    assert read_message(body) == read_message(NEWRX_2017071_FULL)
