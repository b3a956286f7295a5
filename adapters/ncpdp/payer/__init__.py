"""A simulated payer speaking real D.0: plan config, paid-claim history and a pure adjudicator."""

from adapters.ncpdp.payer.adjudicator import Adjudicator
from adapters.ncpdp.payer.config import DrugRule, PayerConfig, PlanLimits, load_payer_config
from adapters.ncpdp.payer.history import ClaimHistory, ClaimKey, PaidClaim

__all__ = [
    "Adjudicator",
    "ClaimHistory",
    "ClaimKey",
    "DrugRule",
    "PaidClaim",
    "PayerConfig",
    "PlanLimits",
    "load_payer_config",
]
