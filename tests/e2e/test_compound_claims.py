"""A compound end to end: a SCRIPT NewRx with CompoundInformation in at the door, billed to the payer simulator
with AM10; the plan covers two of its three ingredients, so it rejects 70 until a technician resubmits with
420-DK 08 (approved ingredients only); paid, the pharmacist verifies it, and the staff API shows the ingredients.
The AM10 the payer read is checked field by field. A compound the hub cannot bill whole is refused at the door;
a FHIR MedicationRequest with a contained compound Medication is billed the same way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import httpx
import pytest

from adapters.ncpdp.payer.config import DrugRule, load_payer_config
from hub.config import Settings
from hub.persistence.users import UserStore
from tests.conftest import make_settings
from tests.e2e.script.messages import new_rx
from tests.e2e.script.support import Answer
from tests.e2e.test_claim_fields import RecordingPayer
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.unit.fhir.test_compound_medication import cream_request, ndc_ingredient
from tests.unit.ncpdp_script.compound_samples import (
    DEXAMETHASONE,
    MOUTHWASH,
    NIZATIDINE,
    UNKNOWN,
    compound_new_rx,
    ingredient,
)


def _settings(amqp_url: str, sqlite_url: str) -> Settings:
    return make_settings(amqp_url, sqlite_url, default_bin="999001", payer_timeout_ms=5000)


def _payer(settings: Settings) -> RecordingPayer:
    """The simulated plan covering dexamethasone and nizatidine as ingredients, not the synthetic lidocaine."""
    config = load_payer_config(settings.payer_sim_config)
    drugs = {
        **config.drugs,
        DEXAMETHASONE: DrugRule(name="dexamethasone", unit_cost=Decimal("0.15")),
        NIZATIDINE: DrugRule(name="nizatidine", unit_cost=Decimal("0.05")),
    }
    update = {"drugs": drugs, "compound_dispensing_fee": Decimal("4.00"), "compound_copay": Decimal("2.00")}
    return RecordingPayer(config.model_copy(update=update))


@contextmanager
def _feed(ph: Pharmacy) -> Iterator[httpx.Client]:
    token = UserStore(ph.engine).add("erx-feed", "feed")[1]
    with httpx.Client(
        base_url=f"http://127.0.0.1:{ph.hub.http_port}", timeout=20, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        yield http


def _post(http: httpx.Client, body: bytes) -> Answer:
    response = http.post("/script", content=body, headers={"Content-Type": "application/xml"})
    assert response.status_code == 200, response.text
    return Answer.of(response.content)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Both databases: the fill of a compound reads (and on PostgreSQL locks) a shelf that has no lots."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url"))


def test_a_compound_is_billed_with_am10_resubmitted_with_08_paid_and_verified(amqp_url: str, database_url: str) -> None:
    settings = _settings(amqp_url, database_url)
    payer = _payer(settings)
    with pharmacy(settings, simulator=payer) as ph, _feed(ph) as http:
        answer = _post(http, compound_new_rx(body=new_rx("CMP-MSG-1", "CMP-1")))
        assert (answer.kind, answer.code) == ("Status", "010"), answer
        pid = ph.by_placer("CMP-1").id
        rejected = ph.wait_state(pid, "claim_rejected")
        tech, rph = ph.client("technician"), ph.client("pharmacist")
        resubmit = {"action": "resubmit", "clarification_codes": ["08"]}
        assert tech.post(f"/api/prescriptions/{pid}/claim-resolution", json=resubmit).status_code == 202
        paid = ph.wait_state(pid, "data_verification")
        story = tech.get(f"/api/prescriptions/{pid}").json()
        assert rph.post(f"/api/prescriptions/{pid}/data-verification", json={"approve": True}).status_code == 202
        filled = ph.wait_state(pid, "product_verification")
        assert rph.post(f"/api/prescriptions/{pid}/product-verification", json={"approve": True}).status_code == 202
        ready = ph.wait_state(pid, "ready")
    assert rejected.document["fills"][0]["claim"]["reject_codes"] == ["70"]
    claim = paid.document["fills"][0]["claim"]
    # the plan pays 6 x 0.15 + 120 x 0.05 = 6.90 for the covered ingredients, + 4.00 fee, less a 2.00 copay
    assert (claim["status"], Decimal(claim["total_paid"]), Decimal(claim["patient_pay"])) == (
        "paid",
        Decimal("8.90"),
        Decimal("2.00"),
    )
    assert filled.document["fills"][0]["data_verified_by"], "the pharmacist verified it"
    # made to order: one compounded lot, the whole quantity, no shelf stock moved (none exists for a compound)
    assert [(p["lot"], Decimal(p["quantity"])) for p in filled.document["fills"][0]["picks"]] == [
        ("COMPOUNDED", Decimal("240"))
    ]
    assert ready.document["fills"][0]["product_verified_by"]
    first, second = payer.received[:2]
    for request in (first, second):
        transaction = request.transactions[0]
        am07 = transaction.claim
        assert (am07.compound_code, am07.product_id_qualifier, am07.product_id) == ("2", "00", "0")
        assert am07.quantity_dispensed == Decimal("240") and am07.unit_of_measure == "ML"
        am10 = transaction.compound
        assert am10 is not None
        # 450-EF 12 suspension, 451-EG 3 millilitres, 447-EC three ingredients
        assert (am10.dosage_form_code, am10.dispensing_unit_code, am10.component_count) == ("12", "3", 3)
        # 488-RE, 489-TE, 448-ED, 449-EE, 490-UE: the plan's sheet prices on AWP from the catalogue
        assert [
            (i.product_id_qualifier, i.product_id, i.quantity, i.drug_cost, i.basis_of_cost) for i in am10.ingredients
        ] == [
            ("03", DEXAMETHASONE, Decimal("6"), Decimal("1.50"), "01"),
            ("03", NIZATIDINE, Decimal("120"), Decimal("15.00"), "01"),
            ("03", UNKNOWN, Decimal("120"), Decimal("0"), "00"),
        ]
        pricing = transaction.pricing
        assert pricing is not None
        assert (pricing.ingredient_cost, pricing.dispensing_fee, pricing.gross_amount_due) == (
            Decimal("16.50"),
            Decimal("1.75"),
            Decimal("18.25"),
        )
    assert first.transactions[0].claim.submission_clarification_codes == ()
    assert second.transactions[0].claim.submission_clarification_codes == ("08",)
    assert "Lidocaine viscous 2%" in str(story), "the staff API shows the ingredients"


def test_a_compound_the_hub_cannot_bill_whole_is_refused_at_the_door(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    with pharmacy(settings) as ph, _feed(ph) as http:
        no_ndc = ingredient(None, "Cherry syrup", "20")
        answer = _post(http, compound_new_rx(*MOUTHWASH[:2], no_ndc, body=new_rx("CMP-MSG-2", "CMP-2")))
    assert (answer.kind, answer.code) == ("Error", "900")
    assert answer.description is not None and "Cherry syrup needs an NDC" in answer.description


def test_a_fhir_compound_is_billed_with_its_ingredients(amqp_url: str, sqlite_url: str) -> None:
    settings = make_settings(
        amqp_url, sqlite_url, default_bin="999001", default_pcn="RXHUB", default_group="GRP1", payer_timeout_ms=5000
    )
    payer = _payer(settings)
    cream = cream_request(
        ndc_ingredient(DEXAMETHASONE, "Dexamethasone", 3), ndc_ingredient(NIZATIDINE, "Nizatidine", 27)
    )
    with pharmacy(settings, simulator=payer) as ph:
        token = UserStore(ph.engine).add("ehr-feed", "feed")[1]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
        with httpx.Client(base_url=f"http://127.0.0.1:{ph.hub.http_port}", timeout=20, headers=headers) as http:
            created = http.post("/fhir/MedicationRequest", json=cream)
        assert created.status_code == 201, created.text
        paid = ph.wait_state(ph.by_placer("ORD-1").id, "data_verification")
    assert paid.document["fills"][0]["claim"]["status"] == "paid"
    [request] = payer.received
    am10 = request.transactions[0].compound
    assert am10 is not None and (am10.dosage_form_code, am10.dispensing_unit_code, am10.component_count) == (
        "03",
        "2",
        2,
    )
    # strength per 30 g, 60 g dispensed: twice each amount
    assert [(i.product_id, i.quantity) for i in am10.ingredients] == [
        (DEXAMETHASONE, Decimal("6")),
        (NIZATIDINE, Decimal("54")),
    ]
