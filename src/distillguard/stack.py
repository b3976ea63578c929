"""The complete gateway, assembled from `Settings`: what `serve` and `demo` run.

    keys      accounts registry behind a CachedKeyResolver
    events    event_pipeline = "process" (default): a PipelineProcess sidecar that fingerprints,
              writes the event log and runs the detector in a child process, sending
              assessments back; "thread" (or a compressed clock / extra sinks):
              FanoutSink([BatchingWriter(event log), OnlineDetector, *extra]) in this process
    detection OnlineDetector -> TierStore (memory / Redis / PostgreSQL)
    enforce   decide, gate, harden, fallback, rate limits, reasoning (policy file, shadow)
    console   the analyst console at /console, reading the same log and detector

The request path stays O(1): the detector only ever sees an event through the sink (a
deque append); tiers come back through the tier store's local dict. Shutdown (the app's
cleanup) flushes the event log and stops the detector thread after a last assessment.

`clock` (optional) runs detection, rate limits and recorded timestamps on a compressed
clock, so a simulated day can pass through the real gateway in minutes (`demo`, benches).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from distillguard.config import ConfigError, Settings
from distillguard.detect.api import Assessment, TierStore
from distillguard.events.schema import AccountInfo, RequestEvent
from distillguard.events.store import EventSink
from distillguard.gateway.auth import KeyResolver
from distillguard.gateway.pipeline import Plugin

log = logging.getLogger(__name__)

DEFAULT_OVERRIDES_DB = "distillguard-overrides.sqlite"  # what `distillguard override` uses


class CompressedClock:
    """Simulated time: `start` at the moment of `restart()`, running `speed` times faster."""

    def __init__(self, start: float, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.speed = speed
        self.wall0 = time.time()

    def restart(self) -> None:
        self.wall0 = time.time()

    def at(self, wall_ts: float) -> float:
        return self.start + (wall_ts - self.wall0) * self.speed

    def __call__(self) -> float:
        return self.at(time.time())


class ClockedSink:
    """Moves each event onto `clock`'s time before passing it on; durations stay real."""

    def __init__(self, inner: EventSink, clock: CompressedClock) -> None:
        self.inner = inner
        self.clock = clock

    def submit(self, event: RequestEvent) -> None:
        shift = self.clock.at(event.ts_start) - event.ts_start
        event.ts_start += shift
        if event.ts_first_byte is not None:
            event.ts_first_byte += shift
        if event.ts_end is not None:
            event.ts_end += shift
        self.inner.submit(event)

    def close(self) -> None:
        self.inner.close()


class AccountFeed:
    """Shows the detector each account (payment fingerprint, signup, email domain) once it
    exists by `clock`: all of them at start, new ones as the registry gains them."""

    def __init__(self, registry: Any, detector: Any, clock: Callable[[], float], refresh_s: float) -> None:
        self.registry = registry
        self.detector = detector
        self.clock = clock
        self.refresh_s = refresh_s
        self.seen: set[str] = set()
        self.pending: list[AccountInfo] = []
        self.fed = 0

    def poll(self, relist: bool) -> None:
        if relist:
            known = self.seen | {a.account_id for a in self.pending}
            self.pending.extend(a for a in self.registry.list_accounts() if a.account_id not in known)
        now = self.clock()
        due = [a for a in self.pending if a.created_at <= now]
        if due:
            self.pending = [a for a in self.pending if a.created_at > now]
            for info in sorted(due, key=lambda a: a.created_at):
                self.detector.submit_account(info)
                self.seen.add(info.account_id)
            self.fed += len(due)

    async def run(self) -> None:
        relist_at = 0.0
        while True:
            now = time.monotonic()
            relist = now >= relist_at
            if relist:
                relist_at = now + self.refresh_s
            try:
                await asyncio.to_thread(self.poll, relist)
            except Exception:
                log.exception("account feed failed")
            await asyncio.sleep(min(0.5, self.refresh_s))


@dataclass
class Stack:
    """The app and the parts a caller may want to look at (demo display, tests)."""

    app: web.Application
    settings: Settings
    registry: Any  # accounts registry (None with no_auth)
    keys: KeyResolver
    writer: Any  # BatchingWriter
    detector: Any  # OnlineDetector, or None when detection is off
    tiers: TierStore
    plugins: list[Plugin]
    overrides: Any  # OverrideStore or None
    console_state: Any  # console StateDB, or None when the console is off/unavailable
    account_feed: AccountFeed | None
    clock: Callable[[], float]
    notes: list[str] = field(default_factory=list)  # what was left out, and why

    def create_admin(self, username: str = "admin") -> str:
        """A console admin with a fresh random password (returned, shown once)."""
        if self.console_state is None:
            raise ConfigError("the console is not mounted")
        from distillguard.console.auth import Auth

        return Auth(self.console_state).bootstrap_admin(username)


def _default_overrides_db(settings: Settings) -> str:
    return settings.overrides_db or os.environ.get("DG_OVERRIDES_DB", "") or DEFAULT_OVERRIDES_DB


def load_stack_policy(settings: Settings) -> Any:
    """The policy file (or the packaged default), with global shadow applied."""
    from distillguard.enforce.policy import PolicyError, load_policy

    try:
        policy = load_policy(settings.policy_file or None)
    except (PolicyError, OSError) as exc:
        raise ConfigError(f"policy: {exc}") from None
    if settings.shadow:
        policy = dataclasses.replace(policy, shadow=True)
    return policy


def build_stack(
    settings: Settings,
    *,
    clock: CompressedClock | None = None,
    no_auth: bool = False,
    extra_sinks: Sequence[EventSink] = (),
    extra_plugins: Sequence[Plugin] = (),
    on_assessment: Callable[[Assessment], None] | None = None,
    account_refresh_s: float = 30.0,
) -> Stack:
    """Everything `settings` asks for, wired together; nothing runs until the app starts.

    Raises ConfigError (one line for the CLI) when a part cannot be opened.
    """
    from distillguard.accounts.keys import CachedKeyResolver
    from distillguard.accounts.registry import open_registry
    from distillguard.detect.tierstore import open_tier_store
    from distillguard.events.writer import FanoutSink, open_sink
    from distillguard.gateway.app import create_app
    from distillguard.gateway.auth import AllowAnyKeyResolver

    now: Callable[[], float] = clock if clock is not None else time.time
    notes: list[str] = []
    policy = load_stack_policy(settings) if settings.enforce else None  # fail before opening anything
    if settings.enforce and any(p.name == "enforce" for p in extra_plugins):
        raise ConfigError(
            "the enforcement stack is on (enforce = true) and also listed in `plugins`: "
            "drop distillguard.enforce.stack:EnforcementPlugin from plugins, or set enforce = false"
        )
    if settings.ratelimit_url and clock is not None:
        raise ConfigError("a compressed clock needs in-process rate limits (ratelimit_url = '')")
    registry: Any = None
    keys: KeyResolver
    if no_auth:
        keys = AllowAnyKeyResolver()
    else:
        try:
            registry = open_registry(settings.database_url)
        except Exception as exc:
            raise ConfigError(f"cannot open the accounts registry at {settings.database_url}: {exc}") from exc
        keys = CachedKeyResolver(registry).start()
    writer: Any = open_sink(settings)  # opened here too in process mode: errors show at once
    try:
        tiers: TierStore = open_tier_store(settings.tier_store_url or "memory://")
    except Exception as exc:
        writer.close()
        raise ConfigError(f"cannot open the tier store {settings.tier_store_url!r}: {exc}") from exc

    detector: Any = None
    pipeline: Any = None
    sink: EventSink
    # The sidecar needs real time and no in-process sinks that would see unfingerprinted text.
    if settings.event_pipeline == "process" and clock is None and not extra_sinks:
        from distillguard.gateway.sidecar import PipelineProcess

        writer.close()
        if settings.detect and settings.detector_config:
            from distillguard.detect.engine import DetectorConfig

            DetectorConfig.load(settings.detector_config)  # a bad file fails here, not in the child
        pipeline = writer = PipelineProcess(
            settings, tiers, detect=settings.detect, on_assessment=on_assessment
        )
        detector = pipeline if settings.detect else None
        sink = pipeline
    elif settings.detect:
        from distillguard.detect.engine import DetectorConfig, DistillGuardDetector
        from distillguard.detect.online import OnlineDetector

        config = DetectorConfig.load(settings.detector_config) if settings.detector_config else None
        detector = OnlineDetector(
            DistillGuardDetector(config),
            tiers,
            interval_s=settings.assess_interval_s,
            clock=now,
            on_assessment=on_assessment,
        )
    if pipeline is None:
        sinks: list[EventSink] = [writer, *([detector] if detector is not None else []), *extra_sinks]
        sink = FanoutSink(sinks)
        if clock is not None:
            sink = ClockedSink(sink, clock)

    overrides: Any = None
    plugins: list[Plugin] = list(extra_plugins)
    if settings.enforce:
        from distillguard.enforce.overrides import SQLiteOverrideStore
        from distillguard.enforce.ratelimit import RateLimitPlugin, make_limiter
        from distillguard.enforce.ratelimit_memory import MemoryLimiter
        from distillguard.enforce.stack import build_plugins

        overrides = SQLiteOverrideStore(_default_overrides_db(settings))
        if settings.ratelimit_url:
            limiter = make_limiter(settings.ratelimit_url)
        else:
            limiter = MemoryLimiter(clock=now) if clock is not None else make_limiter(None)
        enforcement = build_plugins(
            tiers,
            policy,
            limiter=limiter,
            overrides=overrides,
            fail_open=settings.ratelimit_fail_open,
            known_upstreams=set(settings.upstreams) or None,
        )
        for plugin in enforcement:
            if isinstance(plugin, RateLimitPlugin) and clock is not None:
                plugin.clock = clock
        plugins.extend(enforcement)

    app = create_app(settings, sink=sink, key_resolver=keys, plugins=plugins)

    console_state: Any = None
    if settings.console:
        console_state = _mount_console(app, settings, detector, registry, overrides, notes)

    feed: AccountFeed | None = None
    if detector is not None and registry is not None:
        feed = AccountFeed(registry, detector, now, account_refresh_s)

    async def start_background(app: web.Application) -> Any:
        if pipeline is not None:
            pipeline.start()
        elif detector is not None:
            detector.start()
        task = asyncio.create_task(feed.run()) if feed is not None else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close_parts(app: web.Application) -> None:
        # the gateway's own cleanup closes the sink: the writer flushes, the detector stops
        close_keys = getattr(keys, "close", None)
        if close_keys is not None:
            close_keys()
        if overrides is not None:
            overrides.close()
        if registry is not None:
            registry.close()

    app.cleanup_ctx.append(start_background)
    app.on_cleanup.append(close_parts)
    return Stack(
        app=app,
        settings=settings,
        registry=registry,
        keys=keys,
        writer=writer,
        detector=detector,
        tiers=tiers,
        plugins=plugins,
        overrides=overrides,
        console_state=console_state,
        account_feed=feed,
        clock=now,
        notes=notes,
    )


class _NoDetector:
    last_assessment: Assessment | None = None


def _mount_console(
    app: web.Application,
    settings: Settings,
    detector: Any,
    registry: Any,
    overrides: Any,
    notes: list[str],
) -> Any:
    try:
        from distillguard.console.app import mount_console
        from distillguard.console.standalone import live_console_data
        from distillguard.console.state import StateDB, default_state_path
    except ImportError as exc:  # the console is an optional part of the build
        notes.append(f"console not mounted: {exc}")
        return None
    state = StateDB(Path(default_state_path(settings.database_url)))
    data = live_console_data(settings.database_url, detector or _NoDetector(), registry=registry)
    mount_console(app, data, state=state, overrides=overrides)

    async def close_console(app: web.Application) -> None:
        with contextlib.suppress(Exception):
            data.store.close()
        state.close()

    app.on_cleanup.append(close_console)
    return state
