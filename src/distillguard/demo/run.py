"""One end-to-end run: mock upstream + the full gateway stack + a DistillBench scenario
driven through it with the SDKs, and the outcome measured against the ground truth.

Used by `distillguard demo`, tests/e2e and bench/e2e_harvest.py. The gateway runs on its
own event loop in a thread (as `serve` would, in-process so the run can watch the detector);
the SDK clients run on the caller's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from distillguard.config import Settings, UpstreamSettings
from distillguard.detect.api import Assessment, Flag, Reason, Tier
from distillguard.events.schema import RequestEvent
from distillguard.stack import CompressedClock, Stack, build_stack

REFUSALS = frozenset({"block", "verify", "rate_limited"})
EFFECT_REASONS = frozenset(
    {
        "reasoning_removed",
        "reasoning_summarized",
        "logprobs_dropped",
        "top_logprobs_capped",
        "logit_bias_dropped",
        "n_capped",
        "fallback_model",
        "fallback_upstream",
    }
)


def acted_on(event: RequestEvent) -> str | None:
    """What enforcement did to this request, if anything that was not shadow:
    "refused" (blocked, verification, rate limited), "changed" (protected, hardened,
    rerouted), else None."""
    action = event.action
    if action in REFUSALS:
        return "refused"
    if action not in (None, "allow") and not event.shadow:
        return "changed"
    if any(r in EFFECT_REASONS for r in event.reasons):
        return "changed"
    return None


@dataclass
class RunOptions:
    scenario: str = "demo"
    seed: int = 1
    scale: float = 1.0
    speed: float = 720.0  # simulated seconds per wall second
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port
    data_dir: Path = Path("demo-data")
    detect: bool = True
    enforce: bool = True
    console: bool = True
    shadow: bool = False
    policy_file: str = ""
    detector_config: str = ""  # calibrated DetectorConfig file ("" = built-in defaults)
    concurrency: int = 32
    assess_interval_s: float = 1.0  # wall seconds between assessments
    deadline_s: float = 300.0  # stop sending after this many wall seconds
    timeout_s: float = 30.0  # per request
    simulated_lengths: bool = False  # the mock answers with each event's simulated token counts


@dataclass
class Harvest:
    requests: int = 0  # requests sent
    served: int = 0  # answered (status < 400)
    tokens: int = 0  # completion tokens served
    reasoning_withheld: int = 0  # reasoning tokens reasoning protection kept from the client
    logprob_answers: int = 0  # answers that carried the logprobs asked for (not hardened away)

    @property
    def premium(self) -> int:
        """Tokens the client actually got: served minus the reasoning protection withheld."""
        return self.tokens - self.reasoning_withheld

    def add(self, event: RequestEvent) -> None:
        self.requests += 1
        if event.status < 400:
            self.served += 1
            self.tokens += event.completion_tokens
            reasons = event.reasons
            if "reasoning_removed" in reasons or "reasoning_summarized" in reasons:
                self.reasoning_withheld += event.reasoning_tokens
            if event.logprobs and "logprobs_dropped" not in reasons and "top_logprobs_capped" not in reasons:
                self.logprob_answers += 1


@dataclass
class CampaignOutcome:
    campaign_id: str  # ground truth id
    strategy: str
    accounts: int  # accounts of the campaign that sent requests
    accounts_flagged: int
    flagged_at: float | None  # simulated unix time of the first flag (SUSPECT or above)
    first_request: float | None
    flag: Flag | None  # the detector's flag at that moment (campaign flag if linked)
    before: Harvest = field(default_factory=Harvest)
    after: Harvest = field(default_factory=Harvest)
    after_by_action: Counter[str] = field(default_factory=Counter)


@dataclass
class RunResult:
    options: RunOptions
    events: int  # in the event log
    sent: int
    by_status: dict[int, int]
    campaigns: list[CampaignOutcome]
    legit_accounts: int
    legit_requests: int
    legit_acted: Counter[str]  # account_id -> requests acted on
    legit_flagged: list[str]
    unsent: int
    behind_s: float
    traffic_s: float
    dropped_by_detector: int

    @property
    def legit_affected(self) -> int:
        return len(self.legit_acted)


class LiveCounts:
    """Counters the display reads; written from the gateway's and the detector's threads
    (plain ints and dict writes: a torn read only shows a count one update late)."""

    def __init__(self) -> None:
        self.recorded = 0
        self.refused = 0
        self.changed = 0
        self.by_action: Counter[str] = Counter()
        self.flagged: dict[str, tuple[float, Flag]] = {}  # account -> first SUSPECT+ (time, flag)
        self.campaign_flags: dict[str, tuple[float, Flag]] = {}  # detector campaign id -> first
        self.assessments = 0
        self.latest: Assessment | None = None

    # an EventSink
    def submit(self, event: RequestEvent) -> None:
        self.recorded += 1
        what = acted_on(event)
        if what == "refused":
            self.refused += 1
            self.by_action[str(event.action)] += 1
        elif what == "changed":
            self.changed += 1
            self.by_action["protected/hardened"] += 1

    def close(self) -> None:
        pass

    # the OnlineDetector's on_assessment
    def on_assessment(self, assessment: Assessment) -> None:
        self.assessments += 1
        self.latest = assessment
        for account_id, flag in assessment.accounts.items():
            if flag.tier >= Tier.SUSPECT and account_id not in self.flagged:
                self.flagged[account_id] = (assessment.at, flag)
        for campaign_id, flag in assessment.campaigns.items():
            if flag.tier >= Tier.SUSPECT and campaign_id not in self.campaign_flags:
                self.campaign_flags[campaign_id] = (assessment.at, flag)

    def flagged_now(self) -> int:
        latest = self.latest
        if latest is None:
            return 0
        return sum(1 for f in latest.accounts.values() if f.tier >= Tier.SUSPECT)


class GatewayThread:
    """An aiohttp app served on its own loop in a daemon thread."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="distillguard-gateway", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.runner = web.AppRunner(
                self.app, handler_cancellation=True, access_log=None, shutdown_timeout=5
            )
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, self.host, self.port, backlog=1024)
            self.loop.run_until_complete(site.start())
            self.port = self.runner.addresses[0][1]
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        # cleanup: drains requests, closes the sink (flush + last assessment), the console...
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def start(self, timeout_s: float = 30.0) -> int:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError("the gateway did not start in time")
        if self._error is not None:
            raise self._error
        return self.port

    def stop(self, timeout_s: float = 60.0) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout_s)


class E2ERun:
    """Set up with `start()`, send with `await traffic()`, measure with `result()`, `close()`."""

    def __init__(self, options: RunOptions) -> None:
        from distillguard.sim.generate import Simulation

        self.options = options
        self.sim = Simulation(options.scenario, options.seed, scale=options.scale)
        self.truth = self.sim.truth
        self.sim_start = self.sim.scenario.start_ts
        self.live = LiveCounts()
        self.events: list[RequestEvent] = []
        self.keys: dict[str, str] = {}
        self.stack: Stack | None = None
        self.gateway: GatewayThread | None = None
        self._mock_cm: Any = None
        self.url = ""
        self.admin_password: str | None = None
        self.drive_report: Any = None

    @property
    def db_path(self) -> Path:
        return self.options.data_dir / "distillguard.db"

    def settings(self, upstream_url: str) -> Settings:
        o = self.options
        return Settings(
            listen_host=o.host,
            listen_port=o.port,
            database_url=f"sqlite:///{self.db_path.resolve()}",
            upstreams={"mock": UpstreamSettings(url=upstream_url, read_timeout_s=60.0)},
            default_upstream="mock",
            trust_forwarded_for=True,  # the simulated clients' addresses arrive in X-Forwarded-For
            detect=o.detect,
            enforce=o.enforce,
            console=o.console,
            shadow=o.shadow,
            policy_file=o.policy_file,
            detector_config=o.detector_config,
            overrides_db=str(o.data_dir / "overrides.sqlite"),
            assess_interval_s=o.assess_interval_s,
            forward_header_prefixes=["anthropic-", "openai-", *(["x-mock-"] if o.simulated_lengths else [])],
        ).validate()

    def prepare(self, progress: Callable[[str], None] = lambda _m: None) -> None:
        """Generate the traffic and register every account and key (before the clock runs)."""
        from distillguard.accounts.registry import open_registry

        o = self.options
        progress(f"generating {self.sim.n_events:,} requests of scenario {self.sim.scenario.name!r}")
        self.events = list(self.sim.iter_events())
        for name in ("distillguard.db", "distillguard.db-wal", "distillguard.db-shm", "overrides.sqlite"):
            with contextlib.suppress(FileNotFoundError):
                (o.data_dir / name).unlink()
        o.data_dir.mkdir(parents=True, exist_ok=True)
        progress(f"creating {len(self.sim.accounts)} accounts with API keys")
        registry = open_registry(str(self.db_path))
        try:
            for org in self.sim.orgs:
                registry.upsert_org(org)
            registry.upsert_accounts(self.sim.accounts)
            for info in self.sim.accounts:
                raw, _record = registry.create_key(info.account_id, info.org_id or None, name="demo")
                self.keys[info.account_id] = raw
        finally:
            registry.close()

    def start(self) -> str:
        """Mock upstream and gateway up; returns the gateway URL."""
        from distillguard.mock.server import run_mock_in_thread

        o = self.options
        self._mock_cm = run_mock_in_thread()
        mock = self._mock_cm.__enter__()
        self.clock = CompressedClock(self.sim_start, o.speed)
        self.stack = build_stack(
            self.settings(mock.url),
            clock=self.clock,
            extra_sinks=[self.live],
            on_assessment=self.live.on_assessment,
            account_refresh_s=1.0,
        )
        if self.stack.console_state is not None:
            self.admin_password = self.stack.create_admin("admin")
        self.gateway = GatewayThread(self.stack.app, o.host, o.port)
        port = self.gateway.start()
        self.url = f"http://{o.host}:{port}"
        return self.url

    async def traffic(self) -> Any:
        from distillguard.demo.traffic import drive

        o = self.options
        assert self.stack is not None
        self.drive_report = await drive(
            self.events,
            self.sim_start,
            self.url,
            self.keys,
            speed=o.speed,
            concurrency=o.concurrency,
            deadline_s=o.deadline_s,
            timeout_s=o.timeout_s,
            simulated_lengths=o.simulated_lengths,
            on_start=self.clock.restart,
        )
        return self.drive_report

    def settle(self, timeout_s: float = 30.0) -> None:
        """Wait until the log has every event and the detector has assessed all of them."""
        stack = self.stack
        assert stack is not None
        stack.writer.flush(timeout=timeout_s)
        detector = stack.detector
        if detector is None:
            return
        deadline = time.monotonic() + timeout_s
        while detector._queue and time.monotonic() < deadline:
            time.sleep(0.05)
        seen = detector.assessments
        while detector.assessments <= seen and time.monotonic() < deadline:
            time.sleep(0.05)

    def read_events(self) -> Iterator[RequestEvent]:
        from distillguard.events.open import open_store

        store = open_store(str(self.db_path), readonly=True)
        try:
            yield from store.iter_events()
        finally:
            store.close()

    def result(self, flag_times: dict[str, float] | None = None) -> RunResult:
        """Measure against the ground truth. `flag_times` (campaign -> simulated time) sets
        the before/after split, e.g. from an enforcement-off run; default: this run's flags."""
        truth = self.truth
        live = self.live
        members: dict[str, set[str]] = {}
        for account_id, acct in truth.accounts.items():
            if acct.campaign_id:
                members.setdefault(acct.campaign_id, set()).add(account_id)
        outcomes: dict[str, CampaignOutcome] = {}
        for campaign_id, accounts in members.items():
            flagged = {a: live.flagged[a] for a in accounts if a in live.flagged}
            first = min(flagged.values(), key=lambda tf: tf[0]) if flagged else None
            flag = None
            if first is not None:
                flag = first[1]
                if flag.campaign_id and flag.campaign_id in live.campaign_flags:
                    flag = live.campaign_flags[flag.campaign_id][1]
            at = first[0] if first else None
            if flag_times is not None:
                at = flag_times.get(campaign_id)
            outcomes[campaign_id] = CampaignOutcome(
                campaign_id=campaign_id,
                strategy=str(truth.campaigns.get(campaign_id, {}).get("strategy", "")),
                accounts=0,
                accounts_flagged=len(flagged),
                flagged_at=at,
                first_request=None,
                flag=flag,
            )
        legit_requests = 0
        legit_acted: Counter[str] = Counter()
        active: dict[str, set[str]] = {c: set() for c in members}
        n = 0
        for event in self.read_events():
            n += 1
            t = truth.accounts.get(event.account_id)
            if t is None:
                continue
            if t.campaign_id and t.is_attack:
                out = outcomes[t.campaign_id]
                active[t.campaign_id].add(event.account_id)
                if out.first_request is None or event.ts_start < out.first_request:
                    out.first_request = event.ts_start
                if out.flagged_at is not None and event.ts_start >= out.flagged_at:
                    out.after.add(event)
                    out.after_by_action[acted_on(event) or "served as asked"] += 1
                else:
                    out.before.add(event)
            elif not t.is_attack:
                legit_requests += 1
                if acted_on(event) is not None:
                    legit_acted[event.account_id] += 1
        for campaign_id, out in outcomes.items():
            out.accounts = len(active[campaign_id])
        legit = [a for a, t in truth.accounts.items() if not t.is_attack]
        report = self.drive_report
        detector = self.stack.detector if self.stack is not None else None
        return RunResult(
            options=self.options,
            events=n,
            sent=report.sent if report else 0,
            by_status=dict(report.by_status) if report else {},
            campaigns=sorted(outcomes.values(), key=lambda o: o.campaign_id),
            legit_accounts=len(legit),
            legit_requests=legit_requests,
            legit_acted=legit_acted,
            legit_flagged=sorted(a for a in legit if a in live.flagged),
            unsent=report.unsent if report else 0,
            behind_s=report.behind_s if report else 0.0,
            traffic_s=report.seconds if report else 0.0,
            dropped_by_detector=detector.dropped if detector is not None else 0,
        )

    def close(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        if self._mock_cm is not None:
            self._mock_cm.__exit__(None, None, None)
            self._mock_cm = None


def remove_data_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def reasons_text(flag: Flag | None, limit: int = 6) -> list[Reason]:
    if flag is None:
        return []
    return sorted(flag.reasons, key=lambda r: -r.weight)[:limit]
