"""Issue 5's bar, end to end: DistillBench scenarios through the real gateway (official SDKs ->
gateway with the full stack -> mock model), once with enforcement off and once on.

Run:  PYTHONPATH=src python bench/e2e_harvest.py [SCENARIO ...|suite] [--scale 0.05] [--days 2]
          [--seed 1001] [--speed 0] [--assess-every 300] [--detector-config FILE]
          [--off-cache DIR] [--clock lockstep|wall] [--out DIR]

Clock. By default (`--clock lockstep`) the gateway, its rate limits and the in-process
detector run on the simulation's own clock, which the sender sets to each request's
simulated time. Every `--assess-every` simulated seconds the sender stops, waits until
every answered request is recorded, and has the detector assess at that simulated moment
before it goes on: the tiers enforcement reads depend on the traffic, not on how many wall
seconds an assessment took on a loaded machine. `--speed` (simulated seconds per wall
second) only paces the sender between assessments; 0 sends as fast as the gateway answers.
`--clock wall` is the earlier compressed wall clock (the detector assesses in the background
and falls behind at high speed; kept to show that dependence).

Both runs split their harvest at the campaign's flag time from the enforcement-off run
(first assessment with one of its accounts at SUSPECT or above). Harvest = completion
tokens the campaign's accounts received (ground truth) after that moment, minus reasoning
tokens that reasoning protection withheld. Legitimate personas: requests on which a
non-shadow action was taken (refused, or protected / hardened / rerouted) in the on run.
For each campaign the after-flag harvest of the on run is broken down by where it came
from: the tier the account had when it asked, whether the detector had linked it into a
campaign yet, and whether the account first appeared after the flag (a replacement).

`--off-cache DIR` keeps each enforcement-off run's outcome (flag times, harvest) keyed by
everything it depends on (scenario file, scale, days, seed, clock, assessment cadence,
detector config, code revision) and reuses it: the off run does not depend on the policy.

The full scenarios (170k-370k requests over 5 days) are too big to push through HTTP on a
2-core machine in one sitting, so by default every population is scaled by `--scale` and
the scenario is cut to its first `--days` days (the bundled `demo` scenario runs whole).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import hashlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from distillguard.demo.run import E2ERun, RunOptions, RunResult
from distillguard.demo.traffic import DriveReport
from distillguard.detect.api import Tier, TierEntry
from distillguard.events.schema import RequestEvent
from distillguard.sim.scenario import bundled_dir
from distillguard.stack import CompressedClock, build_stack

DEFAULT_SCENARIOS = ["demo", "hydra_shared_payment", "bulk_cot", "logprob_extraction"]
NEVER = 1e12  # the runner's own assessment cadence in lockstep: it only assesses when asked


def suite_attack_scenarios() -> list[str]:
    import yaml

    suite = yaml.safe_load((bundled_dir() / "suite.yaml").read_text())
    out = []
    for name in suite["scenarios"]:
        raw = yaml.safe_load((bundled_dir() / f"{name}.yaml").read_text())
        if raw.get("attacks"):
            out.append(name)
    return out


def scenario_file(name: str, scale: float, days: float, workdir: Path) -> tuple[str, float]:
    """A YAML of the scenario cut to `days` (populations are scaled by the Simulation)."""
    if name == "demo":
        return name, 1.0
    import yaml

    raw = yaml.safe_load((bundled_dir() / f"{name}.yaml").read_text())
    raw["days"] = min(float(raw.get("days", days)), days)
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(path), scale


# ---- the simulation's own clock ------------------------------------------------------------
class SimulatedClock(CompressedClock):
    """Simulated time as the sender sets it (`advance`), never from the wall clock.

    `at(wall_ts)` answers what the simulated time was at a wall moment (the gateway stamps
    events with wall time; `ClockedSink` moves them onto this clock)."""

    def __init__(self, start: float) -> None:
        super().__init__(start, 1.0)
        self.now = start
        self._walls: list[float] = []
        self._sims: list[float] = []

    def restart(self) -> None:
        pass

    def advance(self, ts: float) -> None:
        if ts > self.now:
            self.now = ts
            if len(self._walls) > 20_000:  # only recent moments are ever asked about
                del self._walls[:10_000]
                del self._sims[:10_000]
            self._walls.append(time.time())
            self._sims.append(ts)

    def at(self, wall_ts: float) -> float:
        i = bisect.bisect_right(self._walls, wall_ts) - 1
        return self._sims[i] if i >= 0 else self.start

    def __call__(self) -> float:
        return self.now


@dataclass
class LockstepReport(DriveReport):
    """What `traffic()` returns: the sender's report plus the barriers'."""

    assessments: int = 0
    barrier_s: float = 0.0  # wall seconds spent waiting for the log and the detector
    barrier_timeouts: int = 0  # barriers that went on without every event recorded


class LockstepRun(E2ERun):
    """E2ERun on `SimulatedClock`, the detector assessing at fixed simulated moments."""

    def __init__(
        self, options: RunOptions, assess_every: float, pace: float, link_probation: Tier | None = None
    ) -> None:
        super().__init__(options)
        self.assess_every = assess_every
        self.pace = pace  # simulated seconds per wall second between barriers; 0 = unpaced
        # experiment (not the product): also publish accounts the engine linked into a
        # flagged campaign without naming them, at min(campaign tier, link_probation)
        self.link_probation = link_probation
        self.probation_published = 0
        # diagnostics: when the engine first held each account in a campaign at SUSPECT+,
        # named or not (the engine's private maps: read here only, never by the product)
        self.linked_at: dict[str, float] = {}

    def note_links(self, at: float) -> None:
        assert self.stack is not None
        engine = self.stack.detector.detector
        campaign_of: dict[str, str] = getattr(engine, "_campaign_of", {})
        flags: dict[str, Any] = getattr(engine, "_campaign_flags", {})
        extra: dict[str, TierEntry] = {}
        tiers = self.stack.tiers
        for account_id, cid in campaign_of.items():
            flag = flags.get(cid)
            if flag is None or flag.tier < Tier.SUSPECT:
                continue
            if account_id not in self.linked_at:
                self.linked_at[account_id] = at
            if self.link_probation is not None:
                entry = tiers.get(account_id)
                tier = min(flag.tier, self.link_probation)
                if entry is None or entry.tier < tier:
                    extra[account_id] = TierEntry(
                        tier=tier, reasons=["campaign_link_unnamed"], campaign_id=cid, updated_at=at
                    )
        if extra:
            tiers.publish(extra)
            self.probation_published += len(extra)

    def start(self) -> str:
        from distillguard.demo.run import GatewayThread
        from distillguard.mock.server import run_mock_in_thread

        o = self.options
        self._mock_cm = run_mock_in_thread()
        mock = self._mock_cm.__enter__()
        self.clock = SimulatedClock(self.sim_start)
        self.stack = build_stack(
            self.settings(mock.url),
            clock=self.clock,
            extra_sinks=[self.live],
            on_assessment=self.live.on_assessment,
            account_refresh_s=0.05,
        )
        self.gateway = GatewayThread(self.stack.app, o.host, o.port)
        self.url = f"http://{o.host}:{self.gateway.start()}"
        return self.url

    async def traffic(self) -> LockstepReport:
        from distillguard.demo.traffic import Sender

        o = self.options
        stack = self.stack
        assert stack is not None and stack.detector is not None
        clock = self.clock
        assert isinstance(clock, SimulatedClock)
        detector, live, feed = stack.detector, self.live, stack.account_feed
        report = LockstepReport()
        sender = Sender(self.url, timeout_s=o.timeout_s, simulated_lengths=o.simulated_lengths)
        slots = asyncio.Semaphore(o.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        created = sorted(a.created_at for a in self.sim.accounts)
        answered = 0  # requests the gateway answered (it records each after answering)
        sent_since = 0

        async def one(ev: RequestEvent, key: str) -> None:
            nonlocal answered
            try:
                status = await sender.send(ev, key)
            finally:
                slots.release()
            report.count(status)
            if status != -1:
                answered += 1

        async def barrier(at: float) -> None:
            t0 = time.monotonic()
            if tasks:
                await asyncio.wait(set(tasks))
            clock.advance(at)
            give_up = time.monotonic() + 10.0
            while live.recorded < answered and time.monotonic() < give_up:
                await asyncio.sleep(0.002)
            if live.recorded < answered:
                report.barrier_timeouts += 1
            due = bisect.bisect_right(created, at)
            while feed is not None and feed.fed < due and time.monotonic() < give_up:
                await asyncio.sleep(0.01)
            await asyncio.to_thread(detector.assess_at, at)
            self.note_links(at)  # the runner thread is idle now (the sender is held)
            report.assessments += 1
            report.barrier_s += time.monotonic() - t0

        wall0 = time.monotonic()
        boundary = self.sim_start + self.assess_every
        base_wall, base_sim = wall0, self.sim_start
        try:
            for ev in self.events:
                key = self.keys.get(ev.account_id)
                if key is None:
                    report.skipped += 1
                    continue
                if time.monotonic() - wall0 > o.deadline_s:
                    report.unsent += 1
                    continue
                if ev.ts_start >= boundary:
                    if sent_since:
                        await barrier(boundary)
                        sent_since = 0
                        base_wall, base_sim = time.monotonic(), boundary
                    # skip the quiet intervals: nothing new to assess
                    boundary += ((ev.ts_start - boundary) // self.assess_every + 1) * self.assess_every
                if self.pace > 0:
                    delay = base_wall + (ev.ts_start - base_sim) / self.pace - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    else:
                        report.behind_s = max(report.behind_s, -delay)
                await slots.acquire()
                clock.advance(ev.ts_start)
                report.sent += 1
                sent_since += 1
                task = asyncio.create_task(one(ev, key))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await barrier(boundary)
        finally:
            for task in list(tasks):
                task.cancel()
            await sender.close()
            report.client_errors = dict(sender.errors)
            report.seconds = time.monotonic() - wall0
        self.drive_report = report
        return report

    def settle(self, timeout_s: float = 30.0) -> None:
        stack = self.stack
        assert stack is not None
        stack.writer.flush(timeout=timeout_s)


# ---- the calibrated threshold -----------------------------------------------------------
def calibrate_on_tuning_seeds(
    out: Path, seeds: list[int], scale: float, target_fpr: float, console: Any
) -> dict[str, Any]:
    """`distillguard calibrate` on legitimate-only traffic of the suite's tuning seeds
    (legit_only + hard_negatives, prompt split "tune"), never on a scenario under test.

    The two scenarios of one seed draw the same identities for some accounts (same id,
    card and signup IP): those are kept once, else the merge would link an account
    with its own double."""
    import heapq

    import msgspec

    from distillguard.detect.calibrate import calibrate
    from distillguard.sim.generate import Simulation

    streams: list[Iterable[RequestEvent]] = []
    accounts = []
    for seed in seeds:
        seen: set[str] = set()
        for name in ("legit_only", "hard_negatives"):
            sim = Simulation(name, seed, scale=scale, prompt_split="tune")
            prefix = f"s{seed}{name[:2]}_"
            keep = {a.account_id for a in sim.accounts if a.account_id not in seen}
            seen |= keep
            for info in sim.accounts:
                if info.account_id in keep:
                    accounts.append(
                        msgspec.structs.replace(
                            info, account_id=prefix + info.account_id, org_id=prefix + info.org_id
                        )
                    )

            def renamed(
                sim: Simulation = sim, keep: set[str] = keep, prefix: str = prefix
            ) -> Iterable[RequestEvent]:
                for ev in sim.iter_events():
                    if ev.account_id in keep:
                        ev.account_id = prefix + ev.account_id
                        ev.org_id = prefix + ev.org_id
                        ev.key_id = prefix + ev.key_id
                        yield ev

            streams.append(renamed())
    with console.status(f"calibrating on legitimate traffic of tuning seeds {seeds} (scale {scale})"):
        result = calibrate(heapq.merge(*streams, key=lambda e: e.ts_start), accounts, target_fpr=target_fpr)
    result.config.save(out)
    summary = result.summary()
    console.print(f"calibrated detector config: {out}: {json.dumps(summary)}")
    return summary


# ---- one scenario ----------------------------------------------------------------------------
def one_run(
    scenario: str,
    scale: float,
    seed: int,
    enforce: bool,
    data_dir: Path,
    args: argparse.Namespace,
) -> E2ERun:
    lockstep = args.clock == "lockstep"
    options = RunOptions(
        scenario=scenario,
        seed=seed,
        scale=scale,
        speed=args.speed if args.speed > 0 else 1e9,
        data_dir=data_dir,
        enforce=enforce,
        console=False,
        deadline_s=args.deadline,
        detector_config=args.detector_config,
        policy_file=args.policy,
        assess_interval_s=NEVER if lockstep else args.assess_every / args.speed,
        simulated_lengths=args.simulated_lengths,
    )
    probation = Tier[args.link_probation] if getattr(args, "link_probation", None) else None
    run = LockstepRun(options, args.assess_every, args.speed, probation) if lockstep else E2ERun(options)
    run.prepare()
    run.start()
    try:
        asyncio.run(run.traffic())
        run.settle()
    except BaseException:
        run.close()
        raise
    return run


def harvest_sources(run: E2ERun, flag_times: dict[str, float]) -> dict[str, dict[str, int]]:
    """Per campaign: after-flag tokens kept, by the account's state when it asked."""
    truth = run.truth
    linked_at: dict[str, float] = getattr(run, "linked_at", {})
    first_seen: dict[str, float] = {}
    rows: list[RequestEvent] = []
    for ev in run.read_events():
        t = truth.accounts.get(ev.account_id)
        if t is None or not (t.campaign_id and t.is_attack):
            continue
        if ev.account_id not in first_seen or ev.ts_start < first_seen[ev.account_id]:
            first_seen[ev.account_id] = ev.ts_start
        rows.append(ev)
    out: dict[str, Counter[str]] = {}
    for ev in rows:
        campaign = str(truth.accounts[ev.account_id].campaign_id)
        at = flag_times.get(campaign)
        if at is None or ev.ts_start < at or ev.status >= 400:
            continue
        kept = ev.completion_tokens
        if "reasoning_removed" in ev.reasons or "reasoning_summarized" in ev.reasons:
            kept -= ev.reasoning_tokens
        tier = Tier(ev.tier or 0)
        if tier >= Tier.SUSPECT:
            what = f"{tier.name} ({'campaign' if ev.campaign_id else 'account'} budget/actions)"
        else:
            age = (
                "new account (first request after the flag)"
                if first_seen[ev.account_id] >= at
                else "older account"
            )
            if ev.account_id in linked_at and linked_at[ev.account_id] <= ev.ts_start:
                link = "linked by the engine to a flagged campaign, not named (no entry)"
            else:
                link = "not linked"
            what = f"{tier.name}, {link}, {age}"
        out.setdefault(campaign, Counter())[what] += kept
    return {c: dict(v) for c, v in out.items()}


def off_outcome(result: RunResult) -> dict[str, Any]:
    return {
        "campaigns": {
            c.campaign_id: {
                "strategy": c.strategy,
                "flagged_at": c.flagged_at,
                "premium": c.after.premium,
                "served": c.after.served,
                "logprob_answers": c.after.logprob_answers,
            }
            for c in result.campaigns
        },
        "sent": result.sent,
        "by_status": result.by_status,
    }


def cache_key(scenario: str, scale: float, seed: int, args: argparse.Namespace) -> str:
    """Everything the enforcement-off run depends on."""
    h = hashlib.sha256()
    text = Path(scenario).read_text() if os.path.exists(scenario) else scenario
    config = Path(args.detector_config).read_text() if args.detector_config else ""
    src = hashlib.sha256()  # the code: every source file's content
    for path in sorted((Path(__file__).resolve().parents[1] / "src").rglob("*")):
        if path.suffix in (".py", ".toml", ".yaml", ".json") and path.is_file():
            src.update(path.read_bytes())
    rev = src.hexdigest()
    parts = (text, scale, seed, args.days, args.clock, args.assess_every, config, rev, args.simulated_lengths)
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"\0")
    if args.clock == "wall":
        h.update(repr(args.speed).encode())
    return h.hexdigest()[:16]


def run_scenario(name: str, args: argparse.Namespace, workdir: Path, console: Any) -> list[dict[str, Any]]:
    scenario, scale = scenario_file(name, args.scale, args.days, workdir)
    off_data: dict[str, Any] | None = None
    cache_path: Path | None = None
    if args.off_cache is not None:
        args.off_cache.mkdir(parents=True, exist_ok=True)
        cache_path = args.off_cache / f"{name}-{cache_key(scenario, scale, args.seed, args)}.json"
        if cache_path.exists():
            off_data = json.loads(cache_path.read_text())
            console.print(f"{name}: enforcement off: reused {cache_path}")
    if off_data is None:
        started = time.monotonic()
        with console.status(f"{name}: enforcement off"):
            off_run = one_run(scenario, scale, args.seed, False, workdir / f"{name}-off", args)
        off_result = off_run.result()
        off_run.close()
        off_data = off_outcome(off_result)
        off_data["wall_s"] = time.monotonic() - started
        if cache_path is not None:
            cache_path.write_text(json.dumps(off_data, indent=1))
        console.print(
            f"{name}: enforcement off: {off_result.sent:,} requests in {off_data['wall_s']:.0f} s, "
            f"statuses {off_result.by_status}"
        )
    flag_times = {c: v["flagged_at"] for c, v in off_data["campaigns"].items() if v["flagged_at"]}
    started = time.monotonic()
    with console.status(f"{name}: enforcement on"):
        run = one_run(scenario, scale, args.seed, True, workdir / f"{name}-on", args)
    on = run.result(flag_times)
    sources = harvest_sources(run, flag_times)
    linked = getattr(run, "linked_at", {})
    legit_linked = sorted(a for a in linked if not run.truth.accounts[a].is_attack)
    run.close()
    wall_on = time.monotonic() - started
    report = run.drive_report
    extra = ""
    if isinstance(report, LockstepReport):
        extra = (
            f", {report.assessments} assessments ({report.barrier_s:.0f} s at barriers, "
            f"{report.barrier_timeouts} timeouts)"
        )
    console.print(
        f"{name}: enforcement on: {on.sent:,} requests in {wall_on:.0f} s, statuses {on.by_status}"
        f"{extra}, sender at most {on.behind_s:.0f} s behind"
    )
    rows = []
    sim = run.sim
    for c_on in on.campaigns:
        off_c = off_data["campaigns"].get(c_on.campaign_id, {})
        at = off_c.get("flagged_at")
        off_tokens = int(off_c.get("premium", 0))
        rows.append(
            {
                "scenario": name,
                "scale": scale,
                "days": sim.scenario.days,
                "seed": args.seed,
                "events": on.events,
                "campaign": c_on.campaign_id,
                "strategy": c_on.strategy,
                "flagged_after_h": (at - sim.scenario.start_ts) / 3600 if at is not None else None,
                "off_after_tokens": off_tokens,
                "on_after_tokens": c_on.after.premium,
                "off_after_requests_served": off_c.get("served", 0),
                "on_after_requests_served": c_on.after.served,
                "off_after_logprob_answers": off_c.get("logprob_answers", 0),
                "on_after_logprob_answers": c_on.after.logprob_answers,
                "share": c_on.after.premium / off_tokens if off_tokens else None,
                "on_after_sources": sources.get(c_on.campaign_id, {}),
                "legit_accounts": on.legit_accounts,
                "legit_requests": on.legit_requests,
                "legit_requests_acted": sum(on.legit_acted.values()),
                "legit_accounts_acted": on.legit_affected,
                "legit_flagged": len(on.legit_flagged),
                # legitimate accounts the engine held in a flagged campaign without naming them
                "legit_linked_unnamed": len(legit_linked),
                "wall_s": {"off": off_data.get("wall_s"), "on": wall_on},
            }
        )
        for what, tokens in sorted(sources.get(c_on.campaign_id, {}).items(), key=lambda kv: -kv[1]):
            console.print(f"  {name} {c_on.campaign_id} after the flag, kept: {tokens:>9,} tokens  {what}")
    if not on.campaigns:  # legitimate traffic only: the row is about false positives
        rows.append(
            {
                "scenario": name, "scale": scale, "days": sim.scenario.days, "seed": args.seed,
                "events": on.events, "campaign": "(none)", "strategy": "", "flagged_after_h": None,
                "off_after_tokens": 0, "on_after_tokens": 0, "off_after_requests_served": 0,
                "on_after_requests_served": 0, "off_after_logprob_answers": 0,
                "on_after_logprob_answers": 0, "share": None, "on_after_sources": {},
                "legit_accounts": on.legit_accounts, "legit_requests": on.legit_requests,
                "legit_requests_acted": sum(on.legit_acted.values()),
                "legit_accounts_acted": on.legit_affected, "legit_flagged": len(on.legit_flagged),
                "legit_linked_unnamed": len(legit_linked),
                "wall_s": {"off": off_data.get("wall_s"), "on": wall_on},
            }
        )  # fmt: skip
        console.print(f"{name}: no campaign (legitimate traffic only)")
    if legit_linked:
        console.print(f"{name}: legitimate accounts linked into a flagged campaign, unnamed: {legit_linked}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", default=DEFAULT_SCENARIOS, help="names, or 'suite'")
    parser.add_argument(
        "--seed", type=int, default=1001, help="held-out seed (the detector was not tuned on it)"
    )
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument(
        "--speed", type=float, default=0.0,
        help="simulated seconds per wall second (lockstep: pacing between assessments, 0 = unpaced)",
    )  # fmt: skip
    parser.add_argument("--clock", choices=("lockstep", "wall"), default="lockstep")
    parser.add_argument(
        "--simulated-lengths",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the mock answers with each event's simulated answer/reasoning token counts "
        "(--no-simulated-lengths: its own 16-64 tokens, as before 2026-11-26 18:00)",
    )
    parser.add_argument(
        "--detector-config", default="", help="calibrated DetectorConfig (distillguard calibrate)"
    )
    parser.add_argument("--policy", default="", help="policy file (default: the packaged one)")
    parser.add_argument(
        "--assess-every",
        type=float,
        default=300.0,
        help="simulated seconds between the detector's assessments",
    )
    parser.add_argument("--deadline", type=float, default=1800.0, help="wall seconds per run at most")
    parser.add_argument(
        "--link-probation", choices=[t.name for t in Tier if t >= Tier.WATCH], default=None,
        help="experiment: publish accounts the engine linked into a flagged campaign but did not "
        "name, at this tier at most (what a detection change would do)",
    )  # fmt: skip
    parser.add_argument(
        "--calibrate", type=Path, default=None,
        help="first write a calibrated detector config here (legit-only traffic of the tuning "
        "seeds 1-3, scale 0.25) and use it",
    )  # fmt: skip
    parser.add_argument("--off-cache", type=Path, default=None, help="reuse enforcement-off runs from here")
    parser.add_argument("--out", type=Path, default=Path("out/e2e_harvest"))
    parser.add_argument("--replot", type=Path, default=None, help="only redraw the plot from a results.json")
    args = parser.parse_args()
    if args.replot is not None:
        plot(json.loads(args.replot.read_text())["rows"], args.replot.with_name("e2e_harvest.png"))
        return
    if args.clock == "wall" and args.speed <= 0:
        parser.error("--clock wall needs --speed > 0")
    names: list[str] = []
    for name in args.scenarios:
        names.extend(suite_attack_scenarios() if name == "suite" else [name])

    from rich.console import Console

    console = Console(width=170)
    console.print(f"command: PYTHONPATH=src python {' '.join(sys.argv)}")
    console.print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.calibrate is not None:
        calibrate_on_tuning_seeds(args.calibrate, [1, 2, 3], 0.25, 0.001, console)
        args.detector_config = str(args.calibrate)
    rows: list[dict[str, Any]] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dg-e2e-") as tmp:
        for name in names:
            rows.extend(run_scenario(name, args, Path(tmp), console))
            loads.append(os.getloadavg()[1])
            write_results(args, rows, loads)
    print_table(console, rows)
    plot(rows, args.out / "e2e_harvest.png")
    console.print(
        f"load average (5 min) after each scenario: {', '.join(f'{x:.1f}' for x in loads)}; "
        f"results: {args.out / 'results.json'}, plot: {args.out / 'e2e_harvest.png'}"
    )


def write_results(args: argparse.Namespace, rows: list[dict[str, Any]], loads: list[float]) -> None:
    payload = {"command": sys.argv, "load_avg_5min": loads, "rows": rows}
    (args.out / "results.json").write_text(json.dumps(payload, indent=1, default=str))


def print_table(console: Any, rows: Iterable[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(
        title="campaign harvest after the flag (tokens kept), enforcement off vs on, through the gateway"
    )
    columns = ("scenario", "events", "campaign", "flagged after", "off", "on", "on/off", "logprob answers")
    for col in (*columns, "legit acted on"):
        table.add_column(col, justify="right")
    for row in rows:
        share = f"{row['share']:.1%}" if row["share"] is not None else "-"
        flagged = f"{row['flagged_after_h']:.1f} h" if row["flagged_after_h"] is not None else "never"
        table.add_row(
            row["scenario"], f"{row['events']:,}", row["campaign"], flagged,
            f"{row['off_after_tokens']:,}", f"{row['on_after_tokens']:,}", share,
            f"{row['off_after_logprob_answers']:,} -> {row['on_after_logprob_answers']:,}",
            f"{row['legit_accounts_acted']}/{row['legit_accounts']} acct, "
            f"{row['legit_requests_acted']}/{row['legit_requests']} req",
        )  # fmt: skip
    console.print(table)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not rows:
        return
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(rows)), 4.5))
    xs = list(range(len(rows)))
    flagged = [r["flagged_after_h"] is not None for r in rows]
    off = [r["off_after_tokens"] if f else 0 for r, f in zip(rows, flagged, strict=True)]
    on = [r["on_after_tokens"] if f else 0 for r, f in zip(rows, flagged, strict=True)]
    ax.bar([x - 0.2 for x in xs], off, 0.4, label="enforcement off")
    ax.bar([x + 0.2 for x in xs], on, 0.4, label="enforcement on")
    for x, r, f in zip(xs, rows, flagged, strict=True):
        if r["campaign"] == "(none)":
            label = f"legit only:\n{r['legit_accounts_acted']}/{r['legit_accounts']}\nacted on"
            ax.annotate(label, (x, 1), ha="center", va="bottom", fontsize=7)
        elif not f:
            ax.annotate("never\nflagged", (x, 1), ha="center", va="bottom", fontsize=7)
        elif r["share"] is not None:
            top = max(r["on_after_tokens"], 1)
            ax.annotate(f"{r['share']:.1%}", (x + 0.2, top), ha="center", va="bottom", fontsize=8)
    ax.axhline(1, color="none")
    ax.set_xticks(xs, [f"{r['scenario']}\n{r['campaign'][-6:]}" for r in rows], fontsize=6, rotation=30)
    ax.set_yscale("log")
    ax.set_ylim(bottom=1)
    ax.set_ylabel("tokens kept by the campaign after its flag (log)")
    ax.set_title("Through the gateway (SDKs -> gateway -> mock), simulated clock: harvest after flag")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
