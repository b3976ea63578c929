"""Run the detector inside the gateway process, off the hot path.

The gateway hands every finished request's event to `submit` (a deque append: O(1),
never blocks, never raises). A background thread drains the queue into the detector and
every `interval_s` seconds assesses and publishes a `TierEntry` per flagged account to the
tier store the gateway reads. If the detector falls behind, the oldest queued events are
dropped and counted (`dropped`), so the gateway's memory stays bounded.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from distillguard.detect.api import Assessment, Detector, TierEntry, TierStore
from distillguard.events.schema import AccountInfo, RequestEvent

log = logging.getLogger(__name__)


def tier_entries(assessment: Assessment) -> dict[str, TierEntry]:
    """What the gateway needs per account: tier, reason codes, campaign, risk."""
    out: dict[str, TierEntry] = {}
    for account_id, flag in assessment.accounts.items():
        out[account_id] = TierEntry(
            tier=flag.tier,
            reasons=[r.code for r in flag.reasons],
            campaign_id=flag.campaign_id,
            risk=flag.risk,
            updated_at=assessment.at,
        )
    return out


class OnlineDetector:
    """Background runner: `submit(event)` from the gateway, tiers out to `store`."""

    def __init__(
        self,
        detector: Detector,
        store: TierStore,
        *,
        interval_s: float = 5.0,
        max_queue: int = 200_000,
        clock: Callable[[], float] = time.time,
        on_assessment: Callable[[Assessment], None] | None = None,
    ) -> None:
        self.detector = detector
        self.store = store
        self.interval_s = interval_s
        self.clock = clock
        self.on_assessment = on_assessment
        self._queue: deque[RequestEvent | AccountInfo] = deque(maxlen=max_queue)
        self._wake = threading.Event()
        self._stop = threading.Event()
        # assessments asked for by `assess_at`: (simulated time or None, done, result box)
        self._asked: deque[tuple[float | None, threading.Event, list[Assessment]]] = deque()
        self._thread: threading.Thread | None = None
        self.submitted = 0
        self.processed = 0
        self.assessments = 0
        self.last_assessment: Assessment | None = None
        self.errors = 0

    # ---- gateway side (hot path) ----------------------------------------------------
    def submit(self, event: RequestEvent) -> None:
        self._queue.append(event)
        self.submitted += 1

    def submit_account(self, info: AccountInfo) -> None:
        self._queue.append(info)

    @property
    def dropped(self) -> int:
        return max(0, self.submitted - self.processed - len(self._queue))

    # ---- lifecycle --------------------------------------------------------------------
    def start(self) -> OnlineDetector:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="distillguard-detector", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Process what was submitted, publish once more, stop the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        else:
            self.step()

    def __enter__(self) -> OnlineDetector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- detector side ----------------------------------------------------------------
    def drain(self) -> int:
        """Feed queued items to the detector; returns how many events were fed."""
        queue = self._queue
        detector = self.detector
        fed = 0
        while queue:
            try:
                item = queue.popleft()
            except IndexError:
                break
            try:
                if isinstance(item, RequestEvent):
                    detector.observe(item)
                    fed += 1
                else:
                    detector.observe_account(item)
            except Exception:  # one bad event must not stop detection
                self.errors += 1
                log.exception("detector failed on %r", getattr(item, "request_id", item))
                if isinstance(item, RequestEvent):
                    fed += 1
        self.processed += fed
        return fed

    def step(self, at: float | None = None) -> Assessment:
        """Drain, assess at `at` (default: the clock's now), publish a snapshot of the tiers."""
        self.drain()
        assessment = self.detector.assess(self.clock() if at is None else at)
        entries = tier_entries(assessment)
        replace = getattr(self.store, "replace", None)
        if replace is not None:
            replace(entries)
        else:
            self.store.publish(entries)
        self.assessments += 1
        self.last_assessment = assessment
        if self.on_assessment is not None:
            self.on_assessment(assessment)
        return assessment

    def assess_at(self, at: float | None = None, timeout_s: float = 60.0) -> Assessment | None:
        """Assess once everything submitted so far is fed, publish, and wait for it.

        For a caller that holds a simulated clock still at `at` while the detector catches
        up (bench/e2e_harvest.py): the tiers then depend on the traffic, not on how long the
        assessment took in wall time. Runs on the runner's thread when it is started (the
        detector is not thread-safe), else here. None if it did not finish in `timeout_s`.
        """
        if self._thread is None:
            return self.step(at)
        done = threading.Event()
        box: list[Assessment] = []
        self._asked.append((at, done, box))
        self._wake.set()
        if not done.wait(timeout_s):
            return None
        return box[0] if box else None

    def _answer_asked(self) -> bool:
        answered = False
        while self._asked:
            at, done, box = self._asked.popleft()
            try:
                box.append(self.step(at))
            except Exception:
                self.errors += 1
                log.exception("assessment failed")
            finally:
                done.set()
            answered = True
        return answered

    def _run(self) -> None:
        next_at = self.clock() + self.interval_s
        while not self._stop.is_set():
            self._wake.wait(timeout=min(0.2, self.interval_s))
            self._wake.clear()
            self.drain()
            if self._answer_asked():
                next_at = self.clock() + self.interval_s
            elif self.clock() >= next_at:
                try:
                    self.step()
                except Exception:
                    self.errors += 1
                    log.exception("assessment failed")
                next_at = self.clock() + self.interval_s
        self._answer_asked()
        try:
            self.step()
        except Exception:
            self.errors += 1
            log.exception("final assessment failed")


def tail_and_publish(
    db: str,
    tier_store_url: str,
    *,
    config: object | None = None,
    interval_s: float = 5.0,
    poll_s: float = 1.0,
    accounts_path: str | None = None,
    once: bool = False,
    stop: threading.Event | None = None,
    batch: int = 10_000,
) -> OnlineDetector:
    """`distillguard detect`: follow the shared event log by seq and publish tiers.

    Reads new rows with `iter_with_seq(after_seq=last)` (the storage area's tailing API),
    feeds them to the engine and assesses every `interval_s`. With `once`, catches up with
    the log, publishes once and returns (for cron-style runs and tests).
    """
    from distillguard.detect.engine import DetectorConfig, DistillGuardDetector
    from distillguard.detect.hunt import read_accounts
    from distillguard.detect.tierstore import open_tier_store

    open_store = importlib.import_module("distillguard.events.open").open_store

    cfg = config if isinstance(config, DetectorConfig) else DetectorConfig()
    store = open_store(db, readonly=True)
    runner = OnlineDetector(DistillGuardDetector(cfg), open_tier_store(tier_store_url), interval_s=interval_s)
    for info in read_accounts(accounts_path):
        runner.submit_account(info)
    stop = stop or threading.Event()
    last_seq: int | None = None
    next_assess = time.monotonic()
    try:
        while not stop.is_set():
            fetched = 0
            for seq, event in store.iter_with_seq(after_seq=last_seq, limit=batch):
                runner.submit(event)
                last_seq = seq
                fetched += 1
            runner.drain()
            if once and fetched < batch:
                runner.step()
                break
            if time.monotonic() >= next_assess:
                assessment = runner.step()
                log.info("seq %s: %d accounts flagged", last_seq, len(assessment.accounts))
                next_assess = time.monotonic() + interval_s
            if fetched < batch:
                stop.wait(poll_s)
    finally:
        store.close()
    return runner
