"""bench/e2e_harvest.py's lockstep clock: a scenario through the real gateway on the
simulation's own clock gives the same detection and enforcement outcome at any pace."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "tests" / "e2e" / "tiny.yaml")


def load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("e2e_harvest_bench", ROOT / "bench" / "e2e_harvest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_simulated_clock_maps_wall_moments_to_the_sender_s_time() -> None:
    bench = load_bench()
    clock = bench.SimulatedClock(1000.0)
    assert clock() == 1000.0 and clock.at(0.0) == 1000.0
    clock.advance(1500.0)
    import time

    mid = time.time()
    clock.advance(1400.0)  # never backwards
    assert clock() == 1500.0
    time.sleep(0.01)
    clock.advance(2000.0)
    assert clock.at(mid) == 1500.0
    assert clock.at(time.time()) == 2000.0


def outcome(bench: Any, tmp: Path, speed: float) -> Any:
    args = argparse.Namespace(
        clock="lockstep", speed=speed, deadline=120.0, detector_config="", policy="",
        assess_every=300.0, days=1.0, simulated_lengths=True,
    )  # fmt: skip
    run = bench.one_run(TINY, 1.0, 1, True, tmp, args)
    try:
        result = run.result()
        flags = {c.campaign_id: c.flagged_at for c in result.campaigns if c.flagged_at}
        sources = bench.harvest_sources(run, flags)
        events = list(run.read_events())
        report = run.drive_report
    finally:
        run.close()
    (campaign,) = result.campaigns
    return report, campaign, sources, events, run


@pytest.mark.slow
def test_lockstep_outcome_does_not_depend_on_the_pace(tmp_path: Path) -> None:
    bench = load_bench()
    fast, c_fast, src_fast, events, run = outcome(bench, tmp_path / "fast", 0.0)
    assert fast.sent == len(run.events) and fast.barrier_timeouts == 0 and fast.unsent == 0
    assert fast.assessments > 30  # every 300 simulated s with traffic, over 6 h
    start = run.sim_start
    # recorded on the simulated clock: inside the scenario's 6 hours, not at wall time
    assert all(start <= ev.ts_start <= start + 6 * 3600 + 300 for ev in events)
    assert c_fast.flagged_at is not None and (c_fast.flagged_at - start) % 300 == pytest.approx(0, abs=1e-6)
    assert c_fast.after_by_action["refused"] > 0  # enforcement acted after the flag
    assert sum(src_fast[c_fast.campaign_id].values()) == c_fast.after.premium

    paced, c_paced, src_paced, _, _ = outcome(bench, tmp_path / "paced", 7200.0)
    assert paced.seconds > 2.5  # paced: 6 simulated hours at 7200x take 3 wall seconds
    assert c_paced.flagged_at == c_fast.flagged_at
    assert c_paced.after.premium == c_fast.after.premium
    assert c_paced.after_by_action == c_fast.after_by_action
    assert src_paced == src_fast
