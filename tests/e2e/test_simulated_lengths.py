"""With `simulated_lengths`, the mock model answers each request with the simulated token
counts, so what the gateway records (and the detector and the harvest figures read) matches
the scenario instead of the mock's own 16-64-token answers."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from distillguard.demo.run import E2ERun, RunOptions

TINY = str(Path(__file__).with_name("tiny.yaml"))


def _recorded_lengths(simulated_lengths: bool, tmp_path: Path) -> tuple[Counter[int], Counter[int]]:
    options = RunOptions(
        scenario=TINY,
        seed=3,
        speed=1e9,
        data_dir=tmp_path,
        detect=False,
        enforce=False,
        console=False,
        deadline_s=60.0,
        simulated_lengths=simulated_lengths,
    )
    run = E2ERun(options)
    try:
        run.prepare()
        run.start()
        report = asyncio.run(run.traffic())
        run.settle()
        recorded = Counter(e.completion_tokens for e in run.read_events())
    finally:
        run.close()
    assert report.sent == len(run.events) and not report.client_errors
    simulated = Counter(e.completion_tokens for e in run.events)
    return recorded, simulated


def test_the_mock_answers_with_the_simulated_lengths(tmp_path: Path) -> None:
    recorded, simulated = _recorded_lengths(True, tmp_path / "on")
    # exact per request, but for the odd answer a stop sequence or max_tokens cuts short
    same = sum((recorded & simulated).values())
    assert same >= 0.97 * sum(simulated.values())
    total_recorded = sum(k * v for k, v in recorded.items())
    total_simulated = sum(k * v for k, v in simulated.items())
    assert abs(total_recorded - total_simulated) <= 0.03 * total_simulated


def test_without_it_the_mock_answers_its_own_lengths(tmp_path: Path) -> None:
    recorded, simulated = _recorded_lengths(False, tmp_path / "off")
    assert max(recorded) < 200 < max(simulated)  # 16-64 answer tokens, plus reasoning
