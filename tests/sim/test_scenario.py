from __future__ import annotations

import numpy as np
import pytest

from distillguard.sim.generate import generate
from distillguard.sim.scenario import (
    ScenarioError,
    bundled_names,
    load_scenario,
    load_suite,
    scenario_from_dict,
)
from distillguard.sim.text.sharegpt import load_corpus, split_of


def test_bundled_scenarios_load_and_suite_is_complete() -> None:
    names = bundled_names()
    suite = load_suite()
    assert len(suite.scenarios) >= 12 and set(suite.scenarios) <= set(names)
    scenarios = [load_scenario(n) for n in suite.scenarios]
    assert sum(s.adaptive for s in scenarios) >= 4
    assert sum(bool(s.attacks) for s in scenarios) >= 10
    assert not set(suite.tuning_seeds) & set(suite.heldout_seeds)
    runs = suite.runs("heldout")
    assert {split for _, _, split in runs} == {"eval"}
    assert {split for _, _, split in suite.runs("tuning")} == {"tune"}


def test_unknown_knob_and_kind_are_clear_errors() -> None:
    with pytest.raises(ScenarioError, match="sesions_per_day"):
        scenario_from_dict({"name": "x", "legit": [{"persona": "chat_user", "sesions_per_day": 2}]})
    with pytest.raises(ScenarioError, match="unknown attack kind"):
        scenario_from_dict({"name": "x", "attacks": [{"attack": "nope"}]})
    with pytest.raises(ScenarioError, match="unique"):
        scenario_from_dict({"name": "x", "legit": [{"persona": "chat_user"}, {"persona": "chat_user"}]})
    with pytest.raises(ScenarioError, match="no scenario file"):
        load_scenario("does_not_exist")


def test_scale_shrinks_volume() -> None:
    s = load_scenario("hydra_shared_payment")
    small = s.scaled(0.1)
    assert small.attacks[0].knobs["accounts"] == 6
    assert small.legit[0].count == 40
    assert s.attacks[0].knobs["accounts"] == 60  # original untouched


def test_prompt_split_is_disjoint_and_honoured() -> None:
    tune, ev = load_corpus("tune"), load_corpus("eval")
    assert {c.conv_id.split("_")[0] for c in tune.conversations}.isdisjoint(
        {c.conv_id.split("_")[0] for c in ev.conversations}
    )
    assert all(split_of(c.conv_id) == "tune" for c in tune.conversations[:500])
    assert 0.4 < len(tune.conversations) / (len(tune.conversations) + len(ev.conversations)) < 0.6
    spec = {
        "name": "split",
        "days": 1,
        "legit": [{"persona": "chat_user", "count": 40, "sessions_per_day": 3}],
    }
    for split, corpus, other in (("tune", tune, ev), ("eval", ev, tune)):
        r = generate(scenario_from_dict({**spec, "prompt_split": split}), seed=1)
        prompts = {e.prompt_text for e in r.events}
        own = set(corpus.prompts)
        assert prompts <= own
        assert not prompts & (set(other.prompts) - own)


def test_diurnal_follows_country_time_zone() -> None:
    spec = {
        "name": "tz",
        "days": 4,
        "legit": [
            {"persona": "chat_user", "name": "us", "count": 80, "countries": ["US"], "sessions_per_day": 2},
            {"persona": "chat_user", "name": "cn", "count": 80, "countries": ["CN"], "sessions_per_day": 2},
        ],
    }
    r = generate(scenario_from_dict(spec), seed=2)
    country = {a.account_id: a.country for a in r.accounts}
    for c, offset in (("US", -6), ("CN", 8)):
        ts = np.array([e.ts_start for e in r.events if country[e.account_id] == c])
        utc_hours = np.floor((ts % 86400) / 3600).astype(int)
        counts = np.bincount(utc_hours, minlength=24)
        quiet_utc = int(np.argmin(np.convolve(np.tile(counts, 2), np.ones(4), "valid")[:24]))
        quiet_local = (quiet_utc + offset) % 24
        assert 0 <= quiet_local <= 6 or quiet_local >= 23, (c, quiet_local)
