"""Shared small scenarios for the simulator tests (seconds, not minutes)."""

from __future__ import annotations

import pytest

from distillguard.sim.generate import SimResult, generate
from distillguard.sim.scenario import Scenario, scenario_from_dict

MINI = {
    "name": "mini",
    "days": 3,
    "legit": [
        {"persona": "chat_user", "count": 60},
        {"persona": "coding_agent", "count": 12},
        {"persona": "saas_backend", "count": 1, "requests_per_day": 2000},
        {"persona": "batch_pipeline", "count": 2, "job_size": 400},
        {"persona": "eval_researcher", "count": 4, "run_size": 200},
        {"persona": "student", "count": 90, "universities": 3},
        {"persona": "translation_service", "count": 1, "requests_per_day": 1500},
    ],
    "attacks": [
        {"attack": "bulk_harvest", "name": "bulk", "requests_per_day": 2000},
        {
            "attack": "hydra",
            "name": "hydra",
            "accounts": 20,
            "requests_per_day": 4000,
            "account_lifetime_days": 0.8,
        },
        {"attack": "low_and_slow", "name": "slow", "accounts": 40, "per_account_per_day": 30},
        {"attack": "logprob_extraction", "name": "probe", "accounts": 2, "requests_per_day": 1500},
        {
            "attack": "reseller_blend",
            "name": "resell",
            "customer_requests_per_day": 2000,
            "harvest_share": 0.25,
        },
        {"attack": "agentic_harvest", "name": "agents", "accounts": 8, "per_account_per_day": 60},
    ],
}


@pytest.fixture(scope="session")
def mini_scenario() -> Scenario:
    return scenario_from_dict(MINI)


@pytest.fixture(scope="session")
def mini(mini_scenario: Scenario) -> SimResult:
    return generate(mini_scenario, seed=7)
