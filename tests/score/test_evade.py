"""Cost-to-evade estimate on the hand-built case (conftest.py)."""

from __future__ import annotations

import pytest

from distillguard.sim.scoring import score

DAY = 86400.0


def test_cost_to_evade_points(hand_case, scripted, script):
    events, accounts, truth = hand_case
    report = score(scripted(script), events, accounts, truth, evade_ns=(1, 10))
    cte = report.cost_to_evade
    # never-flagged harvesters: A3 (C1, 3 req, 15 tok) and B1 (C2, 2 req, 100 tok); the replay
    # is shorter than a day, so each rate is its total per one day of exposure.
    assert cte.undetected_harvesting_accounts == 2
    assert cte.max_undetected_accounts_in_one_campaign == 1
    one, ten = cte.points
    assert (one.requests_per_day, one.completion_tokens_per_day, one.extrapolated) == (3.0, 100.0, False)
    # ten accounts: nothing more was demonstrated; linearly, A3's campaign scaled to 10 accounts
    assert (ten.requests_per_day, ten.completion_tokens_per_day, ten.extrapolated) == (3.0, 100.0, True)
    assert (ten.linear_requests_per_day, ten.linear_completion_tokens_per_day) == (30.0, 1000.0)
    assert one.linear_requests_per_day == 3.0
    # strict: only C2 had no account flagged
    assert one.strict_requests_per_day == 2.0
    assert ten.strict_requests_per_day == 2.0
    # flagged slots: A1 2 req in 500 s, A2 3 in 1050 s, R1 2 harvest in 1150 s -> median A2
    assert cte.flagged_slot_requests_per_day == pytest.approx(3 * DAY / 1050, abs=1e-3)
    assert ten.with_replacement_requests_per_day == pytest.approx(10 * 3 * DAY / 1050, abs=1e-2)
    assert ten.accounts_burned_per_day == pytest.approx(10 * DAY / 1050, abs=1e-2)


def test_long_exposure_divides_by_days():
    from distillguard.sim.scoring.evade import cost_to_evade
    from distillguard.sim.scoring.replay import AccountLedger
    from distillguard.sim.truth import AccountTruth

    ledgers = {
        "a": AccountLedger(harvest_requests=400, harvest_tokens=4000, first_harvest_ts=0.0),
        "b": AccountLedger(harvest_requests=100, harvest_tokens=1000, first_harvest_ts=2 * DAY),
    }
    truth = {
        "a": AccountTruth(account_id="a", persona="hydra", campaign_id="c", is_attack=True),
        "b": AccountTruth(account_id="b", persona="hydra", campaign_id="c", is_attack=True),
    }
    cte = cost_to_evade(ledgers, truth, {}, 4 * DAY, cadence_s=300, ns=(1, 2, 4))
    # a: 400 over 4 days = 100/day; b: 100 over 2 days = 50/day
    assert [p.requests_per_day for p in cte.points] == [100.0, 150.0, 150.0]
    assert [p.linear_requests_per_day for p in cte.points] == [100.0, 150.0, 300.0]
    assert [p.extrapolated for p in cte.points] == [False, False, True]
    assert cte.flagged_slot_requests_per_day is None
    assert cte.points[0].with_replacement_requests_per_day == 0.0
