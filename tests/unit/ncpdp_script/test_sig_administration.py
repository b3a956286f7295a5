"""A NewRx's structured Sig gives the order its dose, repeat code and route (RXE-3/5, TQ1-3, RXR-1)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.ncpdp.script import read_message, to_command
from hub.domain.commands import ReceivePrescription
from hub.domain.order_context import Dosage
from hub.errors import MessageContentError
from tests.unit.ncpdp_script.samples import NEWRX_2017071_FULL, corpus, replace

SIG_TEXT = b"<Sig><SigText>Take 1 tablet by mouth every 6 hours as needed for pain.</SigText></Sig>"


def structured(instruction: bytes) -> bytes:
    """The full 2017071 NewRx with a structured Sig carrying ``instruction``."""
    sig = b"<Sig><SigText>Take 1 tablet by mouth every 6 hours.</SigText><Instruction>" + instruction
    return replace(NEWRX_2017071_FULL, SIG_TEXT, sig + b"</Instruction></Sig>")


def new_rx(body: bytes) -> ReceivePrescription:
    command = to_command(read_message(body))
    assert isinstance(command, ReceivePrescription)
    return command


DOSE = (
    b"<DoseAdministration><DoseDeliveryMethod><Text>Take</Text></DoseDeliveryMethod>"
    b"<Dosage><DoseQuantity>1</DoseQuantity><DoseUnitOfMeasure><Text>tablet</Text><Code>C48542</Code>"
    b"</DoseUnitOfMeasure></Dosage><RouteOfAdministration><Text>oral route</Text><Code>26643006</Code>"
    b"</RouteOfAdministration></DoseAdministration>"
)


def test_dose_interval_and_route_from_the_sig() -> None:
    timing = (
        b"<TimingAndDuration><Interval><IntervalNumericValue>6</IntervalNumericValue>"
        b"<IntervalUnits><Text>hours</Text><Code>258702006</Code></IntervalUnits></Interval></TimingAndDuration>"
    )
    rx = new_rx(structured(DOSE + timing))
    assert rx.dosage == Dosage(amount=Decimal(1), unit="tablet", frequency="Q6H")
    assert rx.drug.route == "oral route"


def test_frequency_per_day_by_snomed_unit() -> None:
    timing = (
        b"<TimingAndDuration><Frequency><FrequencyNumericValue>2</FrequencyNumericValue>"
        b"<FrequencyUnits><Text>d</Text><Code>258703001</Code></FrequencyUnits></Frequency></TimingAndDuration>"
    )
    assert new_rx(structured(DOSE + timing)).dosage == Dosage(amount=Decimal(1), unit="tablet", frequency="BID")


def test_corpus_sig_spelling_dose_and_instruction_route() -> None:
    sample = corpus("cosyte_2017071_newrx_structured_sig.xml")  # a MedicationPrescribed fragment
    sig = sample[sample.index(b"<Sig>") : sample.index(b"</Sig>") + len(b"</Sig>")]
    rx = new_rx(replace(NEWRX_2017071_FULL, SIG_TEXT, sig))
    assert rx.dosage == Dosage(amount=Decimal(1), unit="tablet", frequency=None)
    assert rx.drug.route == "by mouth"


def test_sig_text_only_gives_no_dose() -> None:
    rx = new_rx(NEWRX_2017071_FULL)
    assert (rx.dosage, rx.drug.route) == (None, None)


def test_a_dose_that_is_not_a_number_is_refused() -> None:
    bad = DOSE.replace(b"<DoseQuantity>1<", b"<DoseQuantity>one<")
    with pytest.raises(MessageContentError) as exc:
        to_command(read_message(structured(bad)))
    assert [p.location.rsplit("/", 1)[-1] for p in exc.value.problems] == ["DoseQuantity"]
