"""Score several detectors on several datasets, and average the results over seeds.

Each dataset is loaded (or generated) once and replayed through a fresh detector per
name. A detector that cannot be built is reported as an error for every dataset rather
than stopping the whole bench, so baselines still get scored before the engine exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import mean, median

import msgspec

from distillguard.detect.api import Tier
from distillguard.sim.scoring import score
from distillguard.sim.scoring.datasets import DatasetSource
from distillguard.sim.scoring.evade import DEFAULT_NS
from distillguard.sim.scoring.model import ScoreReport
from distillguard.sim.scoring.registry import DetectorUnavailable, make_detector


class SummaryRow(msgspec.Struct, kw_only=True):
    """One scenario x detector, averaged over seeds (None where no seed had a value)."""

    scenario: str
    detector: str
    seeds: list[int]
    campaign_recall: float | None
    account_precision: float | None
    account_recall: float | None
    false_positive_rate: float | None
    before_flag_share: float | None
    not_stopped_share: float | None
    median_time_to_detection_s: float | None
    evade_requests_per_day_at_100: float | None
    events_per_s: float | None  # the detector alone (events / time inside the detector)


class OverallRow(msgspec.Struct, kw_only=True):
    """One detector over every run, pooled (sums of counts, not means of ratios)."""

    detector: str
    runs: int
    campaigns: int
    campaigns_detected: int
    campaign_recall: float | None
    attack_accounts: int
    attack_accounts_flagged: int
    account_recall: float | None
    legit_accounts: int
    legit_accounts_flagged: int
    false_positive_rate: float | None
    harvest_requests: int
    not_stopped_requests: int
    not_stopped_share: float | None
    median_time_to_detection_s: float | None  # median over detected campaigns


@dataclass
class BenchResult:
    reports: list[ScoreReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class BenchHooks:
    """Progress callbacks; the CLI overrides them to drive a rich display."""

    def run_started(self, label: str, detector: str, n_events: int | None) -> None: ...

    def events_done(self, n: int, sim_time: float) -> None: ...

    def run_finished(self, report: ScoreReport | None) -> None: ...

    def run_skipped(self, label: str, detector: str, why: str) -> None: ...


def run_bench(
    sources: Sequence[DatasetSource],
    detectors: Sequence[str],
    *,
    cadence_s: float = 300.0,
    threshold: Tier = Tier.SUSPECT,
    evade_ns: Sequence[int] = DEFAULT_NS,
    hooks: BenchHooks | None = None,
    make: Callable[[str], object] = make_detector,
) -> BenchResult:
    hooks = hooks or BenchHooks()
    result = BenchResult()
    unavailable: dict[str, str] = {}
    for source in sources:
        dataset = source.load()
        for name in detectors:
            if name not in unavailable:
                try:
                    detector = make(name)
                except DetectorUnavailable as exc:
                    unavailable[name] = str(exc)
                    result.errors.append(f"{name}: {exc}")
            if name in unavailable:
                hooks.run_skipped(source.label, name, unavailable[name])
                continue
            hooks.run_started(source.label, name, dataset.n_events)
            report = score(
                detector,  # type: ignore[arg-type]
                dataset.events(),
                dataset.accounts,
                dataset.truth,
                cadence_s=cadence_s,
                threshold=threshold,
                evade_ns=evade_ns,
                progress=hooks.events_done,
                name=name,
            )
            result.reports.append(report)
            hooks.run_finished(report)
    return result


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return mean(present) if present else None


def _evade_at(report: ScoreReport, n: int) -> float | None:
    point = next((p for p in report.cost_to_evade.points if p.n_accounts == n), None)
    return point.requests_per_day if point else None


def summarize(reports: Sequence[ScoreReport]) -> list[SummaryRow]:
    groups: dict[tuple[str, str], list[ScoreReport]] = defaultdict(list)
    for report in reports:
        groups[(report.scenario, report.detector)].append(report)
    rows = []
    for (scenario, detector), runs in sorted(groups.items()):
        rows.append(
            SummaryRow(
                scenario=scenario,
                detector=detector,
                seeds=sorted(r.seed for r in runs),
                campaign_recall=_mean([r.campaigns.recall for r in runs]),
                account_precision=_mean([r.accounts.precision for r in runs]),
                account_recall=_mean([r.accounts.recall for r in runs]),
                false_positive_rate=_mean([r.accounts.false_positive_rate for r in runs]),
                before_flag_share=_mean([r.campaigns.before_flag_share for r in runs]),
                not_stopped_share=_mean([r.campaigns.not_stopped_share for r in runs]),
                median_time_to_detection_s=_mean([r.campaigns.median_time_to_detection_s for r in runs]),
                evade_requests_per_day_at_100=_mean([_evade_at(r, 100) for r in runs]),
                events_per_s=_mean([r.replay.detector_events_per_s for r in runs]),
            )
        )
    return rows


def overall(reports: Sequence[ScoreReport]) -> list[OverallRow]:
    rows = []
    for detector in sorted({r.detector for r in reports}):
        runs = [r for r in reports if r.detector == detector]
        campaigns = [c for r in runs for c in r.per_campaign]
        detected = sum(c.detected for c in campaigns)
        attack = sum(r.accounts.n_attack for r in runs)
        tp = sum(r.accounts.true_positives for r in runs)
        legit = sum(r.accounts.n_legit for r in runs)
        fp = sum(r.accounts.false_positives for r in runs)
        harvest = sum(r.campaigns.harvest_requests for r in runs)
        not_stopped = sum(r.campaigns.not_stopped_requests for r in runs)
        ttds = [c.time_to_detection_s for c in campaigns if c.time_to_detection_s is not None]
        rows.append(
            OverallRow(
                detector=detector,
                runs=len(runs),
                campaigns=len(campaigns),
                campaigns_detected=detected,
                campaign_recall=detected / len(campaigns) if campaigns else None,
                attack_accounts=attack,
                attack_accounts_flagged=tp,
                account_recall=tp / attack if attack else None,
                legit_accounts=legit,
                legit_accounts_flagged=fp,
                false_positive_rate=fp / legit if legit else None,
                harvest_requests=harvest,
                not_stopped_requests=not_stopped,
                not_stopped_share=not_stopped / harvest if harvest else None,
                median_time_to_detection_s=median(ttds) if ttds else None,
            )
        )
    return rows
