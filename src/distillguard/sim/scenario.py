"""Scenario files: a population of legitimate personas and attack campaigns over simulated time.

A scenario is YAML:

    name: hydra_basic
    description: ...
    start: 2026-03-02T00:00:00Z     # simulated start (UTC)
    days: 7
    prompt_split: eval              # which half of the real ShareGPT prompts legit personas use
    models:                         # models the API serves; release_day relative to start
      - {name: atlas-large, release_day: -300}
    legit:
      - {persona: chat_user, count: 200, sessions_per_day: 1.5}
    attacks:
      - {attack: hydra, name: hydra1, accounts: 40, requests_per_day: 20000}

Every key other than persona/attack/name/count is a knob of that persona or attack; unknown
knobs are errors (see `personas.py` and `attacks.py` for each one's knobs and defaults).
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

PromptSplit = Literal["tune", "eval"]


class ModelSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    release_day: float = -365.0  # days relative to scenario start (negative: already out)


class PopulationEntry(msgspec.Struct, kw_only=True):
    """One line of `legit:` or `attacks:`: which generator, how many, and its knobs."""

    kind: str
    name: str
    count: int = 1
    knobs: dict[str, Any] = msgspec.field(default_factory=dict)


class Scenario(msgspec.Struct, kw_only=True):
    name: str
    description: str = ""
    start: str = "2026-03-02T00:00:00Z"
    days: float = 7.0
    prompt_split: PromptSplit = "eval"
    adaptive: bool = False  # built to slip under per-account thresholds (suite bookkeeping)
    models: list[ModelSpec] = msgspec.field(
        default_factory=lambda: [ModelSpec(name="atlas-large"), ModelSpec(name="atlas-mini")]
    )
    legit: list[PopulationEntry] = msgspec.field(default_factory=list)
    attacks: list[PopulationEntry] = msgspec.field(default_factory=list)

    @property
    def start_ts(self) -> float:
        return parse_time(self.start)

    @property
    def end_ts(self) -> float:
        return self.start_ts + self.days * 86400.0

    def scaled(self, scale: float) -> Scenario:
        """Shrink or grow every population (counts and volume knobs) by `scale`; for tests and benches."""
        if scale == 1.0:
            return self

        def entry(e: PopulationEntry) -> PopulationEntry:
            knobs = dict(e.knobs)
            for key in _VOLUME_KNOBS:
                if key in knobs and isinstance(knobs[key], int | float):
                    knobs[key] = type(knobs[key])(max(1, round(knobs[key] * scale)))
            count = e.count if e.kind in _COUNT_IS_STRUCTURE else max(1, round(e.count * scale))
            return PopulationEntry(kind=e.kind, name=e.name, count=count, knobs=knobs)

        return msgspec.structs.replace(
            self, legit=[entry(e) for e in self.legit], attacks=[entry(e) for e in self.attacks]
        )


# Knobs that are volumes (scaled by `Scenario.scaled`); per-account rates are not scaled.
_VOLUME_KNOBS = (
    "requests_per_day",
    "customer_requests_per_day",
    "accounts",
    "job_size",
    "run_size",
    "customers",
)
_COUNT_IS_STRUCTURE: tuple[str, ...] = ()


def parse_time(value: str | float | dt.datetime) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        d = value
    else:
        d = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    return d.timestamp()


class ScenarioError(ValueError):
    pass


def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("a scenario must be a mapping")
    data = dict(data)
    if isinstance(data.get("start"), dt.datetime | dt.date):
        start = data["start"]
        if not isinstance(start, dt.datetime):
            start = dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC)
        data["start"] = start.isoformat()
    entries: dict[str, list[PopulationEntry]] = {}
    for section, kind_key in (("legit", "persona"), ("attacks", "attack")):
        out = []
        for i, raw in enumerate(data.pop(section, None) or []):
            raw = dict(raw)
            kind = raw.pop(kind_key, None)
            if not kind:
                raise ScenarioError(f"{section}[{i}] needs a '{kind_key}:' key")
            name = str(raw.pop("name", kind if section == "legit" else f"{kind}{i}"))
            count = int(raw.pop("count", 1))
            out.append(PopulationEntry(kind=str(kind), name=name, count=count, knobs=raw))
        entries[section] = out
    names = [e.name for es in entries.values() for e in es]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ScenarioError(f"population names must be unique; repeated: {sorted(dupes)}")
    try:
        scenario = msgspec.convert(data, Scenario, strict=False)
    except msgspec.ValidationError as exc:
        raise ScenarioError(f"invalid scenario: {exc}") from exc
    scenario.legit = entries["legit"]
    scenario.attacks = entries["attacks"]
    # Validate knobs now so a typo fails at load time, not after minutes of generation.
    from distillguard.sim.registry import validate_entry

    for e in scenario.legit:
        validate_entry("legit", e)
    for e in scenario.attacks:
        validate_entry("attack", e)
    return scenario


def bundled_dir() -> Path:
    return Path(str(resources.files("distillguard.sim").joinpath("scenarios")))


def bundled_names() -> list[str]:
    return sorted(p.stem for p in bundled_dir().glob("*.yaml") if p.stem != "suite")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A path to a YAML file, or the name of a bundled scenario (see `bundled_names()`)."""
    path = Path(name_or_path)
    if not path.exists():
        candidate = bundled_dir() / f"{name_or_path}.yaml"
        if not candidate.exists():
            raise ScenarioError(
                f"no scenario file {str(name_or_path)!r} and no bundled scenario of that name; "
                f"bundled: {', '.join(bundled_names())}"
            )
        path = candidate
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if isinstance(data, dict):
        data.setdefault("name", path.stem)
    return scenario_from_dict(data)


class Suite(msgspec.Struct, kw_only=True):
    """The standard suite: scenarios, seeds a detector may be tuned on, and held-out seeds."""

    scenarios: list[str]
    tuning_seeds: list[int]
    heldout_seeds: list[int]
    description: str = ""
    tuning_prompt_split: PromptSplit = "tune"  # real prompts a detector may be tuned on
    heldout_prompt_split: PromptSplit = "eval"  # real prompts it is reported on

    def runs(self, which: Literal["tuning", "heldout"]) -> list[tuple[str, int, PromptSplit]]:
        """(scenario, seed, prompt_split) for every run of one half of the suite."""
        seeds = self.tuning_seeds if which == "tuning" else self.heldout_seeds
        split = self.tuning_prompt_split if which == "tuning" else self.heldout_prompt_split
        return [(name, seed, split) for name in self.scenarios for seed in seeds]


def load_suite(name_or_path: str | Path = "suite") -> Suite:
    path = Path(name_or_path)
    if not path.exists():
        path = bundled_dir() / f"{name_or_path}.yaml"
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    suite = msgspec.convert(data, Suite)
    overlap = set(suite.tuning_seeds) & set(suite.heldout_seeds)
    if overlap:
        raise ScenarioError(f"tuning and held-out seeds overlap: {sorted(overlap)}")
    return suite
