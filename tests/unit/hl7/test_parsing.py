"""The tolerant parser on synthetic messages: separators, BOM, escapes, nulls, character sets, bad MSH."""

from __future__ import annotations

import pytest

from adapters.hl7.escaping import STANDARD, escape, unescape
from adapters.hl7.parsing import parse_message
from hub.errors import MessageContentError

MSH = "MSH|^~\\&|EHR|CLINIC^1.2.3^ISO|RXHUB|PHARM|20250101120000||RDE^O11^RDE_O11|C123|P|2.5.1"
PID = "PID|1||MRN1^^^HOSP^MR~999^^^SSA^SS||DOE^JANE||19800102|F"


def test_lf_crlf_mixed_and_blank_lines_give_the_same_segments() -> None:
    expected = parse_message(f"{MSH}\r{PID}\r".encode()).segments
    for sep in ("\n", "\r\n", "\r\n\r\n"):
        assert parse_message(f"{MSH}{sep}{PID}{sep}".encode()).segments == expected
    assert parse_message(f"\r\n{MSH}\n\n{PID}\r\n\r".encode()).segments == expected


def test_utf8_bom_is_ignored() -> None:
    msg = parse_message(b"\xef\xbb\xbf" + f"{MSH}\r{PID}".encode())
    assert msg.header.control_id == "C123" and msg.segments[0].segment_id == "MSH"


def test_header_fields() -> None:
    header = parse_message(f"{MSH}\r".encode()).header
    assert header.sending_application == "EHR"
    assert header.sending_facility == "CLINIC^1.2.3^ISO"
    assert (header.message_type, header.trigger_event, header.structure) == ("RDE", "O11", "RDE_O11")
    assert (header.control_id, header.processing_id, header.version) == ("C123", "P", "2.5.1")
    assert (header.field_separator, header.encoding_characters) == ("|", "^~\\&")


def test_structure_is_derived_when_msh_9_3_is_absent() -> None:
    header = parse_message(MSH.replace("RDE^O11^RDE_O11", "OMP^O09").encode()).header
    assert header.structure == "OMP_O09"


def test_get_reads_repetitions_components_and_sequences() -> None:
    msg = parse_message(f"{MSH}\r{PID}\rNTE|1||first\rNTE|2||second".encode())
    pid = msg.segments[1]
    assert pid.get(3, 1, 2) == "999" and pid.get(3, 4, 2) == "SSA"
    assert pid.get(3, 9) == "" and pid.get(3, 1, 3) == "" and pid.get(99) == ""
    assert msg.get("NTE", 3, sequence=2) == "second" and msg.all("NTE")[1].location(3) == "NTE^2^3"
    assert msg.get("MSH", 9, 2) == "O11" and msg.get("MSH", 1) == "|"


def test_escape_sequences_are_unescaped_in_values() -> None:
    nte = r"NTE|1||a\F\b\S\c\T\d\R\e\E\f\.br\g\X4F4B\h\H\bold\N\ \Zcustom\ " + "end"
    value = parse_message(f"{MSH}\r{nte}".encode()).get("NTE", 3)
    assert value == "a|b^c&d~e\\f\ngOKhbold  end"


def test_custom_delimiters_are_honoured() -> None:
    raw = "MSH#*@!%#EHR#FAC#####RDE*O11#C9#P#2.4\rPID#1##A*B*C*D%X@Y"
    msg = parse_message(raw.encode())
    assert msg.header.message_type == "RDE" and msg.header.control_id == "C9"
    pid = msg.segments[1]
    assert pid.get(3, 4, 1, 2) == "X" and pid.get(3, 1, 2) == "Y"


def test_hl7_null_reads_as_empty() -> None:
    assert parse_message(f'{MSH}\rPID|1||""||""^JANE'.encode()).segments[1].get(5, 1) == ""


def test_three_encoding_characters_v21_style_are_tolerated() -> None:
    header = parse_message(b"MSH|^~&|A|B|C|D|2014||ZPN|42|P|2.1\r").header
    assert (header.control_id, header.version) == ("42", "2.1")


def test_latin1_declared_in_msh18_is_decoded() -> None:
    raw = f"{MSH}||||||8859/1\rPID|1||X||M\xfcller^J\xf6rg".encode("latin-1")
    msg = parse_message(raw)
    assert msg.header.charset == "8859/1" and msg.segments[1].get(5) == "Müller"


def test_undeclared_charset_tries_utf8_then_latin1() -> None:
    assert parse_message(f"{MSH}\rPID|1||X||Müller".encode()).segments[1].get(5) == "Müller"
    assert parse_message(f"{MSH}\rPID|1||X||Müller".encode("latin-1")).segments[1].get(5) == "Müller"


def test_hd_fields_are_kept_as_standard_er7() -> None:
    raw = "MSH#*@!%#APP*1.2%3*ISO@REP2#FAC####RDE*O11#C9#P#2.4\r"
    assert parse_message(raw.encode()).header.sending_application == "APP^1.2&3^ISO"


@pytest.mark.parametrize(
    ("raw", "code", "location", "control_id"),
    [
        (b"", "100", "MSH^1", ""),
        (b"PID|1||X\rMSH|^~\\&|A|B|C|D|2025||RDE^O11|LATE|P|2.5", "100", "MSH^1", "LATE"),
        (b"MSH", "102", "MSH^1^1", ""),
        (b"MSHA^~\\&|A", "102", "MSH^1^1", ""),
        (b"MSH|...\rPID|...", "102", "MSH^1^2", ""),
        (b"MSH|^~\\\\&|||||2021||OMP^O09|ID7|T|2.6", "102", "MSH^1^2", "ID7"),
        (b"MSH|^^\\&|A|B|C|D|2025||RDE^O11|DUP|P|2.5", "102", "MSH^1^2", "DUP"),
    ],
)
def test_unreadable_msh_is_a_content_error_with_best_effort_control_id(
    raw: bytes, code: str, location: str, control_id: str
) -> None:
    with pytest.raises(MessageContentError) as caught:
        parse_message(raw)
    assert [(p.code, p.location) for p in caught.value.problems] == [(code, location)]
    assert caught.value.control_id == control_id


def test_escape_then_unescape_is_identity_for_printable_text() -> None:
    text = "a|b^c&d~e\\f \\F\\ plain"
    assert unescape(escape(text), STANDARD) == text


def test_escape_removes_control_characters_that_would_break_segments_or_frames() -> None:
    assert escape("a\rb\x0bc\x1cd\ne") == "a b c d e"
