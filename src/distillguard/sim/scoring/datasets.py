"""Where the traffic to score comes from: files written by `distillguard simulate`, or the
generator called in-process.

A *dataset* is one scenario at one seed: events (sorted by ts_start), account and org
metadata, and ground truth. A target given to `bench detect` resolves to a list of
dataset sources:

- a directory holding `truth.json`: one simulated run (`--seeds` does not apply);
- a directory whose subdirectories hold `truth.json`: a suite of simulated runs;
- a scenario file (`.yaml`/`.yml`): generated once per seed;
- a suite file (YAML with `scenarios:`, `tuning_seeds:`, `heldout_seeds:`): each of its
  scenarios, once per seed; seeds may be the suite's "tuning", "heldout" or "all";
- a directory of scenario files: each generated once per seed;
- a bare name: `<name>.yaml` among the scenarios the package ships
  (`distillguard/sim/scenarios/`, e.g. `suite`).

Events are read lazily from files on every replay, so a large run is never held in memory
once per detector.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from distillguard.events.schema import AccountInfo, OrgInfo, RequestEvent
from distillguard.sim.truth import Truth

GENERATOR_MODULE = "distillguard.sim.generate"
SCENARIO_MODULE = "distillguard.sim.scenario"
SEED_SETS = ("tuning", "heldout", "all")
SCENARIO_SUFFIXES = (".yaml", ".yml")
T = TypeVar("T")


class DatasetError(ValueError):
    """The target cannot be resolved or read."""


@dataclass
class Dataset:
    scenario: str
    seed: int
    accounts: list[AccountInfo]
    orgs: list[OrgInfo]
    truth: Truth
    events: Callable[[], Iterator[RequestEvent]]  # a fresh pass over the events
    n_events: int | None = None  # known up front when cheap, for progress bars


@dataclass
class DatasetSource:
    """A dataset not loaded yet: loading may mean generating it."""

    label: str  # "scenario@seed" or a directory name
    load: Callable[[], Dataset]


def _read_jsonl(path: Path, kind: type[T]) -> list[T]:
    decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(kind)
    with path.open("rb") as fh:
        return [decoder.decode(line) for line in fh if line.strip()]


def _iter_events_jsonl(path: Path) -> Iterator[RequestEvent]:
    decoder = msgspec.json.Decoder(RequestEvent)
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield decoder.decode(line)


def _iter_events_parquet(path: Path) -> Iterator[RequestEvent]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=50_000):
        for row in batch.to_pylist():
            yield msgspec.convert({k: v for k, v in row.items() if v is not None}, RequestEvent)


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def load_dir(path: Path) -> Dataset:
    """A run written by `distillguard simulate --out DIR`."""
    truth_path = path / "truth.json"
    if not truth_path.is_file():
        raise DatasetError(f"{path} has no truth.json")
    truth = msgspec.json.decode(truth_path.read_bytes(), type=Truth)
    accounts_path = path / "accounts.jsonl"
    accounts = _read_jsonl(accounts_path, AccountInfo) if accounts_path.is_file() else []
    orgs_path = path / "orgs.jsonl"
    orgs = _read_jsonl(orgs_path, OrgInfo) if orgs_path.is_file() else []
    jsonl, parquet = path / "events.jsonl", path / "events.parquet"
    if jsonl.is_file():
        return Dataset(
            scenario=truth.scenario,
            seed=truth.seed,
            accounts=accounts,
            orgs=orgs,
            truth=truth,
            events=lambda: _iter_events_jsonl(jsonl),
            n_events=_count_lines(jsonl),
        )
    if parquet.is_file():
        import pyarrow.parquet as pq

        return Dataset(
            scenario=truth.scenario,
            seed=truth.seed,
            accounts=accounts,
            orgs=orgs,
            truth=truth,
            events=lambda: _iter_events_parquet(parquet),
            n_events=pq.ParquetFile(parquet).metadata.num_rows,
        )
    raise DatasetError(f"{path} has neither events.jsonl nor events.parquet")


def generate_dataset(
    scenario: Path | str | Any, seed: int, scale: float = 1.0, prompt_split: str | None = None
) -> Dataset:
    """Run the generator in-process for one scenario (file, bundled name or Scenario) and seed.

    Uses the generator's streaming `Simulation` when it has one, so events are built lazily
    on each pass instead of being held in memory once per detector.
    """
    try:
        module = importlib.import_module(GENERATOR_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == GENERATOR_MODULE:
            raise DatasetError(
                f"the generator ({GENERATOR_MODULE}) is not in this checkout; "
                "score a directory written by `distillguard simulate` instead"
            ) from exc
        raise
    kwargs: dict[str, Any] = {}
    if scale != 1.0:
        kwargs["scale"] = scale
    if prompt_split is not None:
        kwargs["prompt_split"] = prompt_split
    name = Path(scenario).stem if isinstance(scenario, str | Path) else str(getattr(scenario, "name", "?"))
    simulation = getattr(module, "Simulation", None)
    if simulation is not None:
        try:
            sim = simulation(scenario, seed, **kwargs)
        except (ValueError, OSError) as exc:  # the generator's ScenarioError is a ValueError
            raise DatasetError(f"cannot generate {name}@{seed}: {exc}") from exc
        return Dataset(
            scenario=sim.truth.scenario or name,
            seed=seed,
            accounts=list(sim.accounts),
            orgs=list(sim.orgs),
            truth=sim.truth,
            events=sim.iter_events,
            n_events=getattr(sim, "n_events", None),
        )
    try:
        result = module.generate(scenario, seed, **kwargs)
    except (ValueError, OSError) as exc:
        raise DatasetError(f"cannot generate {name}@{seed}: {exc}") from exc
    events: list[RequestEvent] = list(result.events)
    return Dataset(
        scenario=result.truth.scenario or name,
        seed=seed,
        accounts=list(result.accounts),
        orgs=list(getattr(result, "orgs", []) or []),
        truth=result.truth,
        events=lambda: iter(events),
        n_events=len(events),
    )


def _packaged_scenarios() -> Path:
    return Path(__file__).resolve().parent.parent / "scenarios"


def _is_suite_file(path: Path) -> bool:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "scenarios" in data


def _scenario_module() -> Any:
    try:
        return importlib.import_module(SCENARIO_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == SCENARIO_MODULE:
            raise DatasetError(f"the scenario loader ({SCENARIO_MODULE}) is not in this checkout") from exc
        raise


def _suite_seeds(which: str, suite_path: Path | None) -> list[tuple[int, str | None]]:
    """(seed, prompt split) for a seed set of the suite: tuning runs draw real prompts from
    the tuning split, held-out runs from the evaluation split."""
    suite = _scenario_module().load_suite(suite_path or "suite")
    tuning = [(s, getattr(suite, "tuning_prompt_split", "tune")) for s in suite.tuning_seeds]
    heldout = [(s, getattr(suite, "heldout_prompt_split", "eval")) for s in suite.heldout_seeds]
    if which == "tuning":
        return tuning
    if which == "heldout":
        return heldout
    return tuning + heldout


def parse_seeds(text: str) -> list[int] | str:
    """'1,2,3', '1-5', '1-3,10', or one of the suite's seed sets: tuning, heldout, all."""
    text = text.replace(" ", "")
    if text in SEED_SETS:
        return text
    seeds: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part[1:]:
                lo, _, hi = part.partition("-")
                seeds.extend(range(int(lo), int(hi) + 1))
            elif part:
                seeds.append(int(part))
    except ValueError:
        raise DatasetError(
            f"seeds must be integers, ranges or one of {', '.join(SEED_SETS)}: {text!r}"
        ) from None
    if not seeds:
        raise DatasetError("no seeds given")
    return seeds


def _generated(
    scenarios: Sequence[Path | str], seeds: list[tuple[int, str | None]], scale: float
) -> list[DatasetSource]:
    return [
        DatasetSource(
            f"{Path(s).stem}@{seed}",
            lambda s=s, seed=seed, split=split: generate_dataset(s, seed, scale, split),  # type: ignore[misc]
        )
        for s in scenarios
        for seed, split in seeds
    ]


def resolve(target: str, seeds: Sequence[int] | str, *, scale: float = 1.0) -> list[DatasetSource]:
    """Turn a `bench detect` target into the datasets to score (see the module docstring).

    `seeds` is a list, or "tuning" / "heldout" / "all" from the suite (the target suite,
    or the bundled standard suite for a single scenario). `scale` shrinks or grows generated
    populations (the generator's `scale`), for quick runs.
    """
    path = Path(target)
    if not path.exists():
        root = _packaged_scenarios()
        candidates = [root / f"{target}{s}" for s in SCENARIO_SUFFIXES] + [root / target]
        found = next((c for c in candidates if c.exists()), None)
        if found is None:
            raise DatasetError(f"{target!r} is neither a path nor a scenario or suite shipped in {root}")
        path = found
    if path.is_dir():
        if (path / "truth.json").is_file():
            return [DatasetSource(path.name, lambda p=path: load_dir(p))]  # type: ignore[misc]
        runs = sorted(p for p in path.iterdir() if (p / "truth.json").is_file())
        if runs:
            return [DatasetSource(p.name, lambda p=p: load_dir(p)) for p in runs]  # type: ignore[misc]
        files = sorted(p for p in path.iterdir() if p.suffix in SCENARIO_SUFFIXES and not _is_suite_file(p))
        if not files:
            raise DatasetError(f"{path} holds no truth.json, simulated runs or scenario files")
        return _generated(files, _seed_list(seeds, None), scale)
    if path.suffix not in SCENARIO_SUFFIXES:
        raise DatasetError(f"{path} is not a scenario or suite file ({', '.join(SCENARIO_SUFFIXES)})")
    if _is_suite_file(path):
        suite = _scenario_module().load_suite(path)
        scenarios: list[Path | str] = []
        for name in suite.scenarios:
            beside = [path.parent / f"{name}{s}" for s in SCENARIO_SUFFIXES] + [path.parent / name]
            scenarios.append(next((b for b in beside if b.is_file()), name))
        return _generated(scenarios, _seed_list(seeds, path), scale)
    return _generated([path], _seed_list(seeds, None), scale)


def _seed_list(seeds: Sequence[int] | str, suite_path: Path | None) -> list[tuple[int, str | None]]:
    """Explicit seeds keep the scenario's own prompt split; suite seed sets bring theirs."""
    if isinstance(seeds, str):
        return _suite_seeds(seeds, suite_path)
    return [(seed, None) for seed in seeds]
