"""Every HL7 v2 corpus file through parse -> validate -> map, with the outcome decided per file."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.hl7.mapping import to_commands
from adapters.hl7.parsing import parse_message
from adapters.hl7.validation import validate_header
from hub.domain.commands import CancelPrescription, Command, ReceivePrescription
from hub.domain.order_parts import Setting
from hub.errors import InboundMessageError, MessageContentError, UnsupportedMessageError
from tests.unit.hl7.corpus import sample, sample_names


def run(raw: bytes, **validation: object) -> list[Command]:
    msg = parse_message(raw)
    validate_header(msg.header, **validation)  # type: ignore[arg-type]
    return to_commands(msg)


def refusal(raw: bytes, **validation: object) -> InboundMessageError:
    with pytest.raises(InboundMessageError) as caught:
        run(raw, **validation)
    return caught.value


#: file -> (error class, [(0357 code, ERL)], MSA-2 the ACK can echo); the reason for each is in the comment
REFUSED = {
    # v2.1 PharmaNet (BC) traffic with a non-standard ZPN type: not an order port message at all
    "bcgov_pharmanet_odd_v21_zpn_tpi_msh2_missing_escape_char.hl7": (
        UnsupportedMessageError,
        [("203", "MSH^1^12"), ("200", "MSH^1^9^1^1")],
        "150146",
    ),
    "bcgov_pharmanet_odd_v21_zpn_trx_x0_double_cr.hl7": (
        UnsupportedMessageError,
        [("203", "MSH^1^12"), ("200", "MSH^1^9^1^1")],
        "691365",
    ),
    # RDS^O13 is a dispense report, not an order: unknown type for the order port
    "fhirconverter_rds_o13_doxycycline_dispense.hl7": (
        UnsupportedMessageError,
        [("200", "MSH^1^9^1^1")],
        "MSG00001",
    ),
    "fhirconverter_rds_o13_two_dispenses.hl7": (
        UnsupportedMessageError,
        [("200", "MSH^1^9^1^1")],
        "MSG00001",
    ),
    # spec fragments: the header is elided as "MSH|...", so MSH-2 is "..." and no MSH-10 exists
    "hl7spec_v23_odd_fragment_rxo_email_only_freetext.hl7": (MessageContentError, [("102", "MSH^1^2")], ""),
    "hl7spec_v23_odd_fragment_rxo_partially_coded.hl7": (MessageContentError, [("102", "MSH^1^2")], ""),
    # MSH-2 "^~\\&" repeats the escape character: delimiters are ambiguous, so nothing after MSH is trusted
    "lfh_odd_omp_o09_msh2_double_backslash.hl7": (MessageContentError, [("102", "MSH^1^2")], "MSGID"),
    # ORC-1 OP (order for outside dispense) is not NW/CA/DC; the mixed CR/LF file parses fine up to that point
    "lfh_odd_omp_o09_mixed_cr_lf_separators.hl7": (
        MessageContentError,
        [("103", "ORC^1^1"), ("103", "ORC^2^1")],
        "MSGID_bae9ce6a-e35d-4ff5-8d50-c5dde19cc1aa",
    ),
    "lfh_omp_o09_v251_two_orders_obx.hl7": (
        MessageContentError,
        [("103", "ORC^1^1"), ("103", "ORC^2^1")],
        "MSGID_bae9ce6a-e35d-4ff5-8d50-c5dde19cc1aa",
    ),
    "lfh_omp_o09_v26_dexamethasone_rxo_rxr.hl7": (MessageContentError, [("103", "ORC^1^1")], "MSGID"),
    # a radiology ORM (ORC-1 SN, OBR, no RXO/RXE): not a pharmacy order, AR 200 at the OBR (issue 26; it was
    # AE 103/100 for the control code before, which told the sender to fix what it cannot fix)
    "lfh_orm_o01_v23.hl7": (
        UnsupportedMessageError,
        [("200", "OBR^1")],
        "MSGID_e30a3471-7afd-4aa2-a3d5-e93fd89d24b3",
    ),
    # IV admixtures (RXC) and infusion rates (RXE-23) are refused with AE until the hub can carry them (issue
    # 26); these were AA and stored as "3 BG" of the bag's code, the components and the rate gone
    "fhirconverter_rde_o11_nicardipine_iv_rxo_rxe_rxr_rxc_prt.hl7": (
        MessageContentError,
        [("200", "RXC^1")],
        "MSG00001",
    ),
    # the first group is an admixture, the second an infusion at 23 mL/hr: both refused, so the message is
    "fhirconverter_rde_o11_two_orders.hl7": (
        MessageContentError,
        [("200", "RXC^1"), ("200", "RXE^2^23")],
        "MSG00001",
    ),
    # Cerner leaves MSH-11 (required) empty; accepted only where a default is configured (see test below)
    "nhs_cerner_rde_o01_v23_cancel_diltiazem_zsegs_nulls.hl7": (
        MessageContentError,
        [("101", "MSH^1^11")],
        "Q105132700T129367833",
    ),
}
MAPPED = {
    "fhirconverter_orm_o01_rxo_ampicillin_bom.hl7",
    "lfh_rde_o11_v26_testosterone_orc_rxo_rxe.hl7",
}


def without_iv_parts(raw: bytes) -> bytes:
    """The sample without what makes it an infusion (RXC segments, RXE-23/24 rate), so its other fields can
    still be checked against the mapping: the IV original is refused (REFUSED above)."""
    segments = [s for s in raw.split(b"\r") if not s.startswith(b"RXC|")]
    for i, seg in enumerate(segments):
        if seg.startswith(b"RXE|"):
            fields = seg.split(b"|")
            fields[23:25] = [b"", b""]
            segments[i] = b"|".join(fields)
    return b"\r".join(segments)


def test_every_corpus_file_has_a_decided_outcome() -> None:
    assert set(sample_names()) == set(REFUSED) | MAPPED


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_files_fail_for_their_specific_reason(name: str) -> None:
    kind, expected, control_id = REFUSED[name]
    error = refusal(sample(name))
    assert type(error) is kind
    assert [(p.code, p.location) for p in error.problems] == expected
    assert error.control_id == control_id


@pytest.mark.parametrize("name", sorted(MAPPED))
def test_mapped_files_give_one_command_per_order(name: str) -> None:
    commands = run(sample(name))
    assert commands and all(isinstance(c, ReceivePrescription) for c in commands)


def test_orm_with_bom_maps_rxo_ampicillin() -> None:
    [cmd] = run(sample("fhirconverter_orm_o01_rxo_ampicillin_bom.hl7"))
    assert isinstance(cmd, ReceivePrescription)
    assert (cmd.placer_order_number, cmd.placer_system) == ("1163422591", "EPC")
    assert cmd.drug.ndc == "00047040230" and cmd.drug.text == "Ampicillin 250 mg caps"
    assert [(i.value, i.system, i.type_code) for i in cmd.patient.identifiers] == [
        ("PATID1234", "test1", "MR"),
        ("123456789", "USSSA", "SS"),
    ]
    assert (cmd.patient.family_name, cmd.patient.given_name, cmd.patient.sex) == ("EVERYMAN", "ADAM", "M")
    assert str(cmd.patient.birth_date) == "1988-08-18"
    assert [(a.code, a.text, a.severity) for a in cmd.patient.allergies] == [("P", "PENICILLIN", "mild")]
    assert cmd.quantity is not None and cmd.quantity.value == Decimal("10") and cmd.quantity.unit == "caps"
    assert cmd.refills == 12
    assert cmd.sig == "1 tablet by oral route 2 times daily."
    assert cmd.note == "CT Scan to be done urgent\nNo Antibodies Detected"
    assert cmd.substitution_allowed is True  # RXO-9 G: generic allowed (table 0161)
    assert str(cmd.written_date) == "2019-11-04"  # ORC-9, no RXE
    assert cmd.setting is Setting.INPATIENT  # ORC-29 I, though PV1-2 says O


def test_rde_prefers_rxe_over_rxo_and_reads_route_after_rxe() -> None:
    [cmd] = run(without_iv_parts(sample("fhirconverter_rde_o11_nicardipine_iv_rxo_rxe_rxr_rxc_prt.hl7")))
    assert isinstance(cmd, ReceivePrescription)
    assert cmd.drug.ndc == "0143963401"  # RXE-2, not RXO-1's ampicillin
    assert cmd.drug.route == "IV"
    assert cmd.quantity is not None and (cmd.quantity.value, cmd.quantity.unit) == (Decimal("3"), "BG")
    assert cmd.sig is not None and cmd.sig.startswith("Titrate to BP less than 180 Starting dose")
    # ORC-12 empty: the name comes from RXE-13, whose id (the DEA number) is empty
    assert (cmd.prescriber.family_name, cmd.prescriber.given_name, cmd.prescriber.dea) == (
        "TEST ONE",
        "KEITH",
        None,
    )


def test_two_order_groups_give_two_commands() -> None:
    first, second = run(without_iv_parts(sample("fhirconverter_rde_o11_two_orders.hl7")))
    assert isinstance(first, ReceivePrescription) and isinstance(second, ReceivePrescription)
    assert [first.placer_order_number, second.placer_order_number] == ["1163422591", "1422591"]
    assert [first.drug.ndc, second.drug.ndc] == ["0143963401", "2669"]
    assert second.drug.route == "IP"  # the RXR after the second RXE
    assert second.quantity is not None and second.quantity.value == Decimal("4")


def test_minimal_rde_uses_sender_as_placer_system_when_orc2_has_no_namespace() -> None:
    [cmd] = run(sample("lfh_rde_o11_v26_testosterone_orc_rxo_rxe.hl7"))
    assert isinstance(cmd, ReceivePrescription)
    assert (cmd.placer_order_number, cmd.placer_system) == ("F800006", "OE")
    assert (cmd.drug.ndc, cmd.drug.text) == ("62756-017", "Testosterone Cypionate")
    assert cmd.patient.identifiers[0].value == "1234" and cmd.patient.identifiers[0].type_code == "MR"
    assert cmd.refills == 5 and cmd.setting is Setting.INPATIENT  # PV1-2 I


def test_cerner_cancel_maps_when_a_default_processing_id_is_configured() -> None:
    [cmd] = run(sample("nhs_cerner_rde_o01_v23_cancel_diltiazem_zsegs_nulls.hl7"), default_processing_id="P")
    assert isinstance(cmd, CancelPrescription)
    assert (cmd.placer_order_number, cmd.placer_system, cmd.control) == ("31320845", "HNAM_ORDERID", "CA")
    assert cmd.reason == "Course completed"


def test_cerner_header_reads_charset_and_version() -> None:
    header = parse_message(sample("nhs_cerner_rde_o01_v23_cancel_diltiazem_zsegs_nulls.hl7")).header
    assert (header.charset, header.version, header.structure, header.processing_id) == (
        "8859/1",
        "2.3",
        "RDE_O01",
        "",
    )
