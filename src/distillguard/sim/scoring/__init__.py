"""DistillBench scoring: replay a scenario through any detector and compare with ground truth.

    from distillguard.sim.scoring import score
    report = score(detector, events, accounts, truth)   # -> ScoreReport
    report.to_json()

See docs/scoring.md for what every number means.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from distillguard.detect.api import Detector, Tier
from distillguard.events.schema import AccountInfo, RequestEvent
from distillguard.sim.scoring.evade import DEFAULT_NS
from distillguard.sim.scoring.metrics import compute
from distillguard.sim.scoring.model import SCHEMA, ScoreReport, report_from_json
from distillguard.sim.scoring.replay import ProgressFn, ReplayResult, replay
from distillguard.sim.truth import Truth

__all__ = [
    "SCHEMA",
    "ReplayResult",
    "ScoreReport",
    "compute",
    "replay",
    "report_from_json",
    "score",
]


def score(
    detector: Detector,
    events: Iterable[RequestEvent],
    accounts: Sequence[AccountInfo],
    truth: Truth,
    *,
    cadence_s: float = 300.0,
    threshold: Tier = Tier.SUSPECT,
    evade_ns: Sequence[int] = DEFAULT_NS,
    progress: ProgressFn | None = None,
    name: str | None = None,
) -> ScoreReport:
    """Replay `events` (sorted by ts_start) through `detector` and score it against `truth`."""
    result = replay(
        detector, events, accounts, truth, cadence_s=cadence_s, threshold=threshold, progress=progress
    )
    label = name or str(getattr(detector, "name", type(detector).__name__))
    return compute(
        result, truth, detector=label, cadence_s=cadence_s, threshold=threshold, evade_ns=tuple(evade_ns)
    )
