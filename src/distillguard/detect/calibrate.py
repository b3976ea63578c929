"""Set the tier thresholds for a target false-positive rate on traffic known to be legitimate.

The engine is replayed over the traffic; every account's *highest* risk over time is kept
(flags are sticky: an account that was SUSPECT once was a false positive once). The
SUSPECT threshold is put just above the risk that only `target_fpr` of the legitimate
accounts ever reached; WATCH, LIKELY and CONFIRMED keep their spacing around it. Analyst
labels (JSONL of {"account_id", "label"}: "legit"/"attack") say which accounts are which;
without labels every account in the traffic is taken as legitimate.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from distillguard.detect.engine import DetectorConfig, DistillGuardDetector
from distillguard.detect.hunt import run_batch
from distillguard.events.schema import AccountInfo, RequestEvent

LEGIT_LABELS = frozenset({"legit", "legitimate", "benign", "false_positive", "fp"})
ATTACK_LABELS = frozenset({"attack", "malicious", "distillation", "true_positive", "tp"})


@dataclass(slots=True)
class Calibration:
    config: DetectorConfig
    threshold: float  # the new SUSPECT threshold
    n_legit: int
    legit_above: int  # legitimate accounts whose max risk reaches the threshold
    fpr: float
    target_fpr: float
    n_attack: int = 0
    attack_recall: float | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            "threshold": round(self.threshold, 6),
            "tiers": self.config.scoring.tiers,
            "n_legit": self.n_legit,
            "legit_above": self.legit_above,
            "fpr": self.fpr,
            "target_fpr": self.target_fpr,
            "n_attack": self.n_attack,
            "attack_recall": self.attack_recall,
            "notes": self.notes,
        }


def read_labels(path: str | Path) -> dict[str, str]:
    """Analyst labels: one JSON object per line with account_id and label."""
    labels: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            account, label = str(row["account_id"]), str(row["label"]).lower()
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: expected {{account_id, label}}: {exc}") from exc
        if label not in LEGIT_LABELS | ATTACK_LABELS:
            raise ValueError(f"{path}:{number}: unknown label {label!r}")
        labels[account] = "legit" if label in LEGIT_LABELS else "attack"
    return labels


def threshold_for(
    risks: list[float], target_fpr: float, floor: float = 0.05, ceiling: float = 0.999
) -> float:
    """Smallest threshold with at most `target_fpr` of `risks` at or above it."""
    if not risks:
        return floor
    ordered = sorted(risks, reverse=True)
    allowed = math.floor(target_fpr * len(ordered))  # how many may be at or above
    if allowed >= len(ordered):
        return floor
    # put the threshold just above the (allowed+1)-th highest legitimate risk
    boundary = ordered[allowed]
    return min(ceiling, max(floor, boundary + 1e-4 + (1.0 - boundary) * 0.05))


def calibrate(
    events: Iterable[RequestEvent],
    accounts: Iterable[AccountInfo] = (),
    *,
    labels: dict[str, str] | None = None,
    target_fpr: float = 0.001,
    base: DetectorConfig | None = None,
    cadence_s: float = 300.0,
) -> Calibration:
    config = base or DetectorConfig()
    detector = DistillGuardDetector(config)
    run_batch(detector, events, accounts, cadence_s=cadence_s)
    seen = set(detector.accounts)
    notes: list[str] = []
    if labels:
        legit = [a for a in seen if labels.get(a) == "legit"]
        attack = [a for a in seen if labels.get(a) == "attack"]
        unlabelled = len(seen) - len(legit) - len(attack)
        if unlabelled:
            notes.append(f"{unlabelled} accounts without a label were left out")
    else:
        legit, attack = sorted(seen), []
        notes.append("no labels: every account in the traffic taken as legitimate")
    legit_risks = [detector.max_risk.get(a, 0.0) for a in legit]
    threshold = threshold_for(legit_risks, target_fpr)
    old = config.scoring.tiers
    # keep the spacing of the other tiers relative to SUSPECT, on the logit scale
    shift = _logit(threshold) - _logit(old["SUSPECT"])
    config.scoring.tiers = {name: round(_sigmoid(_logit(v) + shift), 6) for name, v in old.items()}
    config.scoring.tiers["SUSPECT"] = round(threshold, 6)
    above = sum(r >= threshold for r in legit_risks)
    recall = None
    if attack:
        recall = sum(detector.max_risk.get(a, 0.0) >= threshold for a in attack) / len(attack)
    return Calibration(
        config=config,
        threshold=threshold,
        n_legit=len(legit),
        legit_above=above,
        fpr=above / len(legit) if legit else 0.0,
        target_fpr=target_fpr,
        n_attack=len(attack),
        attack_recall=recall,
        notes=notes,
    )


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))
