"""Run a scenario: every persona and campaign -> columns -> time-sorted `RequestEvent`s + truth.

sim = Simulation(load_scenario("hydra_basic"), seed=1)
for event in sim.iter_events(): ...          # streaming, events built chunk by chunk
result = generate("hydra_basic", seed=1)     # everything in memory
write_outputs(sim, "out/")                   # events.jsonl, accounts.jsonl, orgs.jsonl, truth.json
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec
import numpy as np

from distillguard.events.io import write_accounts_jsonl, write_orgs_jsonl
from distillguard.events.schema import AccountInfo, OrgInfo, RequestEvent
from distillguard.sim.batch import EventBuilder, concat, request_ids
from distillguard.sim.context import SimContext
from distillguard.sim.registry import knobs_for, lookup
from distillguard.sim.scenario import PromptSplit, Scenario, load_scenario
from distillguard.sim.truth import Truth
from distillguard.sim.world import World, stable_hash

OutputFormat = Literal["jsonl", "parquet"]


@dataclass
class SimResult:
    events: list[RequestEvent]  # sorted by ts_start
    accounts: list[AccountInfo]
    orgs: list[OrgInfo]
    truth: Truth


class Simulation:
    """Plans a whole scenario up front (numpy columns), then builds events lazily in time order.

    Accounts, orgs and the full `Truth` are available right after construction; events come
    from `iter_events()`, so a multi-million-event run never holds all event objects at once.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path,
        seed: int = 0,
        *,
        scale: float = 1.0,
        prompt_split: PromptSplit | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        scenario = scenario.scaled(scale)
        if prompt_split is not None:  # e.g. the suite's tuning runs use "tune", held-out runs "eval"
            scenario = msgspec.structs.replace(scenario, prompt_split=prompt_split)
        self.scenario = scenario
        self.seed = int(seed)
        self.world = World(self.scenario.name, self.seed, self.scenario.start_ts, self.scenario.end_ts)
        self.ctx = SimContext(self.scenario, self.world)
        batches = []
        for section, entries in (("legit", self.scenario.legit), ("attack", self.scenario.attacks)):
            for entry in entries:
                if progress:
                    progress(f"{section} {entry.name}")
                _, gen = lookup(section, entry.kind)
                batches.extend(gen(self.ctx, entry, knobs_for(section, entry)))
        cols = concat(batches)
        inside = (cols["ts"] >= self.scenario.start_ts) & (cols["ts"] < self.scenario.end_ts)
        # No account sends before it exists (accounts that sign up during the run).
        created = np.array([a.created_at for a in self.world.accounts], dtype=np.float64)
        if len(created):
            inside &= cols["ts"] >= created[cols["account"]]
        self._cols = {k: v[inside] for k, v in cols.items()}
        self._order = np.argsort(self._cols["ts"], kind="stable")
        self._ids = request_ids(int(stable_hash(self.seed, self.scenario.name, n=8), 16), len(self._order))
        camp = self._cols["campaign"][self._order]
        attack_pos = np.nonzero(camp >= 0)[0]
        self.world.truth.attack_requests = {
            f"req_{rid:016x}": self.world.campaigns[c]
            for rid, c in zip(self._ids[attack_pos].tolist(), camp[attack_pos].tolist(), strict=True)
        }
        accounts = self.world.accounts
        # One API key per account; the gateway would record its key id.
        self.key_ids = {a.account_id: "key_" + stable_hash(self.seed, a.account_id) for a in accounts}
        self._builder = EventBuilder(
            self._cols,
            self.ctx.strings,
            [a.account_id for a in accounts],
            [a.org_id for a in accounts],
            [self.key_ids[a.account_id] for a in accounts],
            self._ids,
        )

    @property
    def n_events(self) -> int:
        return len(self._order)

    @property
    def accounts(self) -> list[AccountInfo]:
        return self.world.accounts

    @property
    def orgs(self) -> list[OrgInfo]:
        return self.world.orgs

    @property
    def truth(self) -> Truth:
        return self.world.truth

    def iter_events(self, chunk: int = 65536) -> Iterator[RequestEvent]:
        """Events in time order (ts_start ascending)."""
        return self._builder.events(self._order, chunk)

    def arrow_tables(self, schema: Any, chunk: int = 65536) -> Iterator[Any]:
        """The same events as Arrow tables in `schema` (see `events.io.arrow_schema`)."""
        return self._builder.arrow_tables(self._order, schema, chunk)

    def json_lines(self, chunk: int = 65536) -> Iterator[tuple[int, bytes]]:
        """The same events as JSONL bytes, built from the columns without event objects (fast path).
        Each line decodes with `event_from_json` to exactly the event `iter_events` yields."""
        return self._builder.json_lines(self._order, chunk)


def generate(
    scenario: Scenario | str | Path,
    seed: int = 0,
    *,
    scale: float = 1.0,
    prompt_split: PromptSplit | None = None,
) -> SimResult:
    sim = Simulation(scenario, seed, scale=scale, prompt_split=prompt_split)
    return SimResult(events=list(sim.iter_events()), accounts=sim.accounts, orgs=sim.orgs, truth=sim.truth)


def iter_events(
    scenario: Scenario | str | Path,
    seed: int = 0,
    *,
    scale: float = 1.0,
    prompt_split: PromptSplit | None = None,
) -> Iterator[RequestEvent]:
    """Streaming variant of `generate` for big runs (accounts/truth: use `Simulation`)."""
    return Simulation(scenario, seed, scale=scale, prompt_split=prompt_split).iter_events()


# ---- files --------------------------------------------------------------------------------------------


def write_outputs(
    sim: Simulation,
    out_dir: str | Path,
    fmt: OutputFormat = "jsonl",
    on_chunk: Callable[[int], None] | None = None,
) -> dict[str, Path]:
    """DIR/events.jsonl|parquet, DIR/accounts.jsonl, DIR/orgs.jsonl, DIR/truth.json."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "events": out / f"events.{fmt}",
        "accounts": out / "accounts.jsonl",
        "orgs": out / "orgs.jsonl",
        "truth": out / "truth.json",
    }
    if fmt == "jsonl":
        _write_jsonl(sim, paths["events"], on_chunk)
    elif fmt == "parquet":
        _write_parquet(sim, paths["events"], on_chunk)
    else:
        raise ValueError(f"unknown format {fmt!r}; use jsonl or parquet")
    write_accounts_jsonl(paths["accounts"], sim.accounts)
    write_orgs_jsonl(paths["orgs"], sim.orgs)
    paths["truth"].write_bytes(msgspec.json.encode(sim.truth))
    return paths


def _write_jsonl(sim: Simulation, path: Path, on_chunk: Callable[[int], None] | None) -> None:
    with open(path, "wb") as f:
        for count, data in sim.json_lines():
            f.write(data)
            if on_chunk:
                on_chunk(count)


def _write_parquet(sim: Simulation, path: Path, on_chunk: Callable[[int], None] | None) -> None:
    """Same schema as `events.io.write_events_parquet` (readable by `read_events`), built from columns."""
    import pyarrow.parquet as pq

    from distillguard.events.io import arrow_schema

    schema = arrow_schema(RequestEvent)
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for table in sim.arrow_tables(schema):
            writer.write_table(table)
            if on_chunk:
                on_chunk(table.num_rows)
        if sim.n_events == 0:
            writer.write_table(schema.empty_table())
