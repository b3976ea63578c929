"""Replay order: accounts at created_at, events in time order, assessments on the cadence."""

from __future__ import annotations

import pytest

from distillguard.events.schema import AccountInfo, RequestEvent
from distillguard.sim.scoring import replay
from distillguard.sim.truth import AccountTruth, Truth


def _truth(*accounts: str) -> Truth:
    return Truth(
        scenario="t",
        seed=0,
        accounts={a: AccountTruth(account_id=a, persona="chat_user") for a in accounts},
    )


def test_accounts_fed_at_creation_and_ticks_on_cadence(scripted):
    events = [
        RequestEvent(request_id="e1", account_id="a", ts_start=10.0),
        RequestEvent(request_id="e2", account_id="a", ts_start=350.0),
        RequestEvent(request_id="e3", account_id="b", ts_start=5000.0),
    ]
    accounts = [
        AccountInfo(account_id="b", created_at=4000.0),
        AccountInfo(account_id="a", created_at=0.0),
        AccountInfo(account_id="late", created_at=9000.0),
    ]
    detector = scripted({})
    result = replay(detector, events, accounts, _truth("a", "b", "late"), cadence_s=300.0)
    assert detector.calls == [
        ("account", "a"),
        ("event", "e1"),
        ("assess", 300.0),
        ("event", "e2"),
        ("assess", 600.0),
        # idle ticks 900..3900 are skipped; b appears before the tick that follows its creation
        ("account", "b"),
        ("assess", 4200.0),
        ("event", "e3"),
        ("account", "late"),
        ("assess", 9000.0),
    ]
    assert result.assessments == 4
    assert result.events == 3
    assert (result.sim_start, result.sim_end) == (10.0, 5000.0)


def test_unsorted_events_are_rejected(scripted):
    events = [
        RequestEvent(request_id="e1", account_id="a", ts_start=10.0),
        RequestEvent(request_id="e2", account_id="a", ts_start=5.0),
    ]
    with pytest.raises(ValueError, match="ts_start order"):
        replay(scripted({}), events, [], _truth("a"))


def test_flag_time_is_the_assessment_time(hand_case, scripted, script):
    events, accounts, truth = hand_case
    result = replay(scripted(script), events, accounts, truth, cadence_s=300.0)
    assert result.flagged_at == {"A1": 600.0, "L3": 900.0, "A2": 1200.0, "R1": 1500.0}
    assert result.campaign_flagged_at == {"C1": 600.0, "C3": 1500.0}
    assert result.final_tier["R1"] == 4
    assert result.detector_s <= result.wall_s


def test_event_before_account_creation_is_warned_and_fed(scripted):
    events = [RequestEvent(request_id="e1", account_id="a", ts_start=10.0)]
    detector = scripted({})
    result = replay(detector, events, [AccountInfo(account_id="a", created_at=50.0)], _truth("a"))
    assert detector.calls[:2] == [("account", "a"), ("event", "e1")]
    assert any("before their created_at" in w for w in result.warnings)


def test_progress_called(scripted):
    events = [RequestEvent(request_id=f"e{i}", account_id="a", ts_start=float(i)) for i in range(25)]
    seen: list[int] = []
    replay(scripted({}), events, [], _truth("a"), progress=lambda n, t: seen.append(n), progress_every=10)
    assert seen == [10, 20, 25]
