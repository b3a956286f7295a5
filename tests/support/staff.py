"""Staff actions in end-to-end tests: a verbal order as the console sends it, and waiting for a command's outcome."""

from __future__ import annotations

import time
from typing import Any

import httpx

from hub.persistence.prescriptions import PrescriptionRow
from tests.support.pharmacy import Pharmacy

#: a telephone order as the console sends it once the pharmacist read it back
VERBAL: dict[str, Any] = {
    "patient": {"family_name": "Synthetic", "given_name": "Eve", "birth_date": "1980-02-03", "sex": "F"},
    "prescriber": {"family_name": "Prescriber", "given_name": "Pat", "npi": "1234567893"},
    "drug": {"ndc": "00378020801"},
    "quantity": {"value": "30"},
    "sig": "one daily",
    "read_back_confirmed": True,
}


def verbal(**changes: Any) -> dict[str, Any]:
    """The verbal order with some parts replaced."""
    return {**VERBAL, **changes}


def settled(client: httpx.Client, command_id: str, timeout_s: float = 30) -> dict[str, Any]:
    """``GET /api/commands/{id}`` once the command is no longer pending."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = client.get(f"/api/commands/{command_id}")
        assert answer.status_code == 200, answer.text
        if answer.json()["status"] != "pending":
            return dict(answer.json())
        time.sleep(0.05)
    raise AssertionError(f"command {command_id} still pending")


def outcome(ph: Pharmacy, command_id: str, role: str = "pharmacist") -> dict[str, Any]:
    """``settled`` for the pharmacy's user of ``role``."""
    return settled(ph.client(role), command_id)


def order(ph: Pharmacy, body: dict[str, Any], *, state: str) -> PrescriptionRow:
    """Take a verbal order as the licensed pharmacist; the prescription once it reached ``state``."""
    taken = ph.client("pharmacist").post("/api/verbal-orders", json=body)
    assert taken.status_code == 202, taken.text
    done = outcome(ph, taken.json()["command_id"])
    assert done["status"] == "applied" and done["rx_number"], done
    return ph.wait_state(done["prescription_id"], state)
