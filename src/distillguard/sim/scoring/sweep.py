"""Cost to evade, measured directly: replay one campaign at several sizes and per-account rates.

The per-run estimate in `evade.py` can only use the campaign sizes a scenario happens to
contain. Here the scenario's legitimate population is kept fixed (same scenario name and
seed, so the same legitimate traffic in every variant) and one attack is regenerated with
`accounts = N` and `per_account_per_day = r` for every pair in a grid. For each detector and
N the curve is the largest harvest per day among the variants the detector did not detect
at all, and the largest harvest per day that got past it (sent by accounts not yet
flagged) over all variants.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from distillguard.detect.api import Tier
from distillguard.sim.scoring import score
from distillguard.sim.scoring.datasets import (
    GENERATOR_MODULE,
    SCENARIO_MODULE,
    DatasetError,
    generate_dataset,
)
from distillguard.sim.scoring.registry import make_detector

SWEEP_SCHEMA = "distillbench.evade/1"
DAY = 86400.0


class SweepPoint(msgspec.Struct, kw_only=True):
    detector: str
    n_accounts: int
    per_account_per_day: float
    detected: bool
    share_accounts_flagged: float | None
    harvest_requests: int
    harvest_per_day: float
    not_stopped_requests: int
    not_stopped_per_day: float
    time_to_detection_s: float | None
    legit_false_positive_rate: float | None


class SweepCurvePoint(msgspec.Struct, kw_only=True):
    detector: str
    n_accounts: int
    max_undetected_rate: float | None  # per account per day; None: every rate was detected
    max_undetected_harvest_per_day: float  # harvest/day of that variant (0 if none)
    max_not_stopped_per_day: float  # over all rates, harvest sent by not-yet-flagged accounts


class SweepReport(msgspec.Struct, kw_only=True):
    schema: str
    scenario: str
    attack: str
    seed: int
    days: float
    legit_scale: float
    threshold: str
    points: list[SweepPoint]
    curve: list[SweepCurvePoint]

    def to_json(self) -> bytes:
        return msgspec.json.format(msgspec.json.encode(self), indent=2)


def _modules() -> tuple[Any, Any]:
    try:
        return importlib.import_module(SCENARIO_MODULE), importlib.import_module(GENERATOR_MODULE)
    except ModuleNotFoundError as exc:
        raise DatasetError(f"the generator is not in this checkout ({exc.name})") from exc


def variant(scenario: Any, attack: str | None, n_accounts: int, rate: float, days: float | None) -> Any:
    """The scenario with only `attack`, resized to n_accounts at `rate` requests/account/day."""
    attacks = list(scenario.attacks)
    if not attacks:
        raise DatasetError(f"scenario {scenario.name} has no attack to resize")
    if attack is None:
        entry = attacks[0]
    else:
        matching = [a for a in attacks if attack in (a.name, a.kind)]
        if not matching:
            known = ", ".join(f"{a.name} ({a.kind})" for a in attacks)
            raise DatasetError(f"scenario {scenario.name} has no attack {attack!r}; it has {known}")
        entry = matching[0]
    knobs = dict(entry.knobs)
    knobs["accounts"] = n_accounts
    knobs["per_account_per_day"] = float(rate)
    resized = msgspec.structs.replace(entry, knobs=knobs)
    changes: dict[str, Any] = {"attacks": [resized]}
    if days is not None:
        changes["days"] = days
    return msgspec.structs.replace(scenario, **changes)


def run_sweep(
    scenario_ref: str,
    detectors: Sequence[str],
    *,
    attack: str | None = None,
    accounts: Sequence[int] = (1, 10, 100),
    rates: Sequence[float] = (20.0, 100.0, 500.0, 2000.0),
    seed: int = 1001,
    days: float | None = 2.0,
    legit_scale: float = 0.2,
    cadence_s: float = 300.0,
    threshold: Tier = Tier.SUSPECT,
    on_variant: Callable[[int, float], None] | None = None,
    on_point: Callable[[SweepPoint], None] | None = None,
) -> SweepReport:
    scenario_module, _ = _modules()
    base = scenario_module.load_scenario(scenario_ref).scaled(legit_scale)
    points: list[SweepPoint] = []
    attack_name = attack or (base.attacks[0].name if base.attacks else "?")
    for n in accounts:
        for rate in rates:
            if on_variant is not None:
                on_variant(n, rate)
            dataset = generate_dataset(variant(base, attack, n, rate, days), seed)
            for name in detectors:
                report = score(
                    make_detector(name),
                    dataset.events(),
                    dataset.accounts,
                    dataset.truth,
                    cadence_s=cadence_s,
                    threshold=threshold,
                    evade_ns=(n,),
                    name=name,
                )
                sim_days = max(report.replay.sim_duration_s / DAY, 1e-9)
                campaign = report.per_campaign[0] if report.per_campaign else None
                points.append(
                    SweepPoint(
                        detector=name,
                        n_accounts=n,
                        per_account_per_day=float(rate),
                        detected=bool(campaign and campaign.detected),
                        share_accounts_flagged=campaign.share_accounts_flagged if campaign else None,
                        harvest_requests=campaign.harvest_requests if campaign else 0,
                        harvest_per_day=round((campaign.harvest_requests if campaign else 0) / sim_days, 3),
                        not_stopped_requests=campaign.not_stopped_requests if campaign else 0,
                        not_stopped_per_day=round(
                            (campaign.not_stopped_requests if campaign else 0) / sim_days, 3
                        ),
                        time_to_detection_s=campaign.time_to_detection_s if campaign else None,
                        legit_false_positive_rate=report.accounts.false_positive_rate,
                    )
                )
                if on_point is not None:
                    on_point(points[-1])
    return SweepReport(
        schema=SWEEP_SCHEMA,
        scenario=base.name,
        attack=attack_name,
        seed=seed,
        days=days if days is not None else base.days,
        legit_scale=legit_scale,
        threshold=threshold.name,
        points=points,
        curve=curve(points),
    )


def curve(points: Sequence[SweepPoint]) -> list[SweepCurvePoint]:
    out: list[SweepCurvePoint] = []
    keys = sorted({(p.detector, p.n_accounts) for p in points})
    for detector, n in keys:
        group = [p for p in points if p.detector == detector and p.n_accounts == n]
        undetected = [p for p in group if not p.detected]
        best = max(undetected, key=lambda p: p.harvest_per_day, default=None)
        out.append(
            SweepCurvePoint(
                detector=detector,
                n_accounts=n,
                max_undetected_rate=max((p.per_account_per_day for p in undetected), default=None),
                max_undetected_harvest_per_day=best.harvest_per_day if best else 0.0,
                max_not_stopped_per_day=max(p.not_stopped_per_day for p in group),
            )
        )
    return out
