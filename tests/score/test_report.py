"""Summaries average over seeds, and the Markdown shows the numbers the JSON holds."""

from __future__ import annotations

import json

import pytest

from distillguard.sim.report import write_outputs
from distillguard.sim.scoring import score
from distillguard.sim.scoring.bench import BenchResult, summarize


@pytest.fixture
def two_seeds(hand_case, scripted, script):
    events, accounts, truth = hand_case
    first = score(scripted(script), events, accounts, truth, name="scripted")
    truth.seed = 8
    # seed 8: nothing flagged at all
    second = score(scripted({}), events, accounts, truth, name="scripted")
    return [first, second]


def test_summary_means_over_seeds(two_seeds):
    (row,) = summarize(two_seeds)
    assert row.seeds == [7, 8]
    assert row.campaign_recall == pytest.approx((2 / 3 + 0) / 2)
    assert row.false_positive_rate == pytest.approx((1 / 3 + 0) / 2)
    assert row.account_precision == pytest.approx(0.75)  # seed 8 has none: null, left out
    assert row.before_flag_share == pytest.approx((9 / 16 + 1) / 2)
    assert row.median_time_to_detection_s == pytest.approx(825.0)


def test_outputs(two_seeds, tmp_path):
    paths = write_outputs(
        BenchResult(reports=two_seeds, errors=["x: missing"]), tmp_path, meta={"target": "t"}
    )
    data = json.loads(paths["json"].read_text())
    assert list(data) == ["schema", "meta", "overall", "summary", "runs", "errors"]
    (pooled,) = data["overall"]
    # seed 7: 3 of 5 attack, 1 of 3 legit flagged; seed 8: nothing
    assert (pooled["attack_accounts_flagged"], pooled["attack_accounts"]) == (3, 10)
    assert (pooled["legit_accounts_flagged"], pooled["legit_accounts"]) == (1, 6)
    assert pooled["campaigns_detected"] == 2 and pooled["campaigns"] == 6
    assert pooled["not_stopped_share"] == pytest.approx((12 + 16) / 32)
    assert len(data["runs"]) == 2
    md = paths["markdown"].read_text()
    assert "| hand | scripted | 7,8 | 33.3% | 75.0% | 30.0% | 16.7% |" in md
    assert "| student | 50.0% |" in md
    assert "| hand | 7 | scripted | C1 | hydra | 2/3 | 11 | 45.5% | 72.7% | 8 min |" in md
    assert "- x: missing" in md
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "hand__seed7__scripted.json",
        "hand__seed8__scripted.json",
    ]
    assert paths["cost_to_evade"].stat().st_size > 1000
