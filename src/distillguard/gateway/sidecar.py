"""The event pipeline in its own process: fingerprints, the event log and the detector.

Why: in the gateway process these cost more CPU than the proxying around them
(`fingerprint.enrich` ~100-250 us per request, the batching writer and the detector
threads ~50-100 us more, all behind the same GIL as the event loop). One sidecar process
per gateway process takes them over; the gateway keeps an O(1) `submit` and an O(1)
local tier lookup.

    gateway process                               pipeline process (started by start())
    submit(event) -> deque ──sender thread──▶ pipe ─▶ enrich + retention ─▶ BatchingWriter
                                                      └────────────────────▶ OnlineDetector
    TierStore.replace() ◀──receiver thread── pipe ◀── each assessment (tiers, flags)

Events cross as msgpack batches (one every `flush_interval_s`, 50 ms; ~2 us per event to
encode). The gateway's copy of every assessment serves the tier lookup, the console
(`last_assessment`) and `on_assessment`, as the in-process OnlineDetector would.

Loss: `close()` sends what is queued, then the process fingerprints, writes and flushes
everything and runs a last assessment before it answers: a clean shutdown loses no
acknowledged request. A crash of the gateway loses what had not reached the pipe
(`flush_interval_s`, 50 ms); the pipeline sees the pipe end, writes what it received and
exits. A crash of both (power) also loses what the writer had not committed (its
`max_delay`, 0.1 s, and its queue). If the pipeline process dies, a new one is started and
gets the batch that failed; events submitted meanwhile wait in the queue (bounded by
`max_queue`; beyond it they are dropped and counted).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import msgspec

from distillguard.config import Settings
from distillguard.detect.api import Assessment, TierEntry, TierStore
from distillguard.events.schema import AccountInfo, RequestEvent

log = logging.getLogger(__name__)

# One byte of kind, then a msgpack payload.
_EVENTS, _ACCOUNTS, _CLOSE = b"E", b"A", b"C"  # gateway -> pipeline
_ASSESSMENT, _DONE = b"S", b"D"  # pipeline -> gateway

_SETUP = b"P"  # the first message: (settings, detect)
_encode = msgspec.msgpack.Encoder().encode
_decode_setup = msgspec.msgpack.Decoder(tuple[Settings, bool]).decode
_decode_events = msgspec.msgpack.Decoder(list[RequestEvent]).decode
_decode_accounts = msgspec.msgpack.Decoder(list[AccountInfo]).decode
_decode_assessment = msgspec.msgpack.Decoder(Assessment).decode
_decode_stats = msgspec.msgpack.Decoder(dict[str, int]).decode


class PipelineProcess:
    """An `EventSink` (and, with detection, the detector handle `build_stack` exposes) whose
    work happens in a child process. `submit` is a deque append: O(1), never blocks."""

    fingerprints_events = True  # the gateway sends text and lets us fingerprint + retain

    def __init__(
        self,
        settings: Settings,
        tiers: TierStore | None,
        *,
        detect: bool = True,
        on_assessment: Callable[[Assessment], None] | None = None,
        flush_interval_s: float = 0.05,
        max_queue: int = 100_000,
        max_batch: int = 2000,
        close_timeout_s: float = 120.0,
        max_restarts: int = 100,
    ) -> None:
        self.settings = settings
        self.tiers = tiers
        self.detect = detect
        self.on_assessment = on_assessment
        self.flush_interval_s = flush_interval_s
        self.max_queue = max_queue
        self.max_batch = max_batch
        self.close_timeout_s = close_timeout_s
        self.max_restarts = max_restarts
        self._events: deque[RequestEvent] = deque()
        self._accounts: deque[AccountInfo] = deque()
        self._known_accounts: dict[str, AccountInfo] = {}
        self._wake = threading.Event()
        self._closing = False
        self._closed = False
        self._done = threading.Event()
        self._process: Any = None
        self._conn: Connection | None = None
        self._sender: threading.Thread | None = None
        self.submitted = 0
        self.dropped = 0
        self.rejected = 0
        self.restarts = 0
        self.assessments = 0
        self.last_assessment: Assessment | None = None
        self.final_stats: dict[str, int] = {}  # the pipeline's counters, sent at close

    # --- gateway side, hot path -----------------------------------------------------------
    def submit(self, event: RequestEvent) -> None:
        if self._closing:
            self.rejected += 1
            return
        if len(self._events) >= self.max_queue:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 10_000 == 0:
                log.warning("event pipeline queue full (%d): %d events dropped", self.max_queue, self.dropped)
            return
        self._events.append(event)
        self.submitted += 1

    def submit_account(self, info: AccountInfo) -> None:
        self._known_accounts[info.account_id] = info  # shown again to a replacement process
        self._accounts.append(info)

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> PipelineProcess:
        if self._sender is None:
            self._spawn()
            self._sender = threading.Thread(target=self._send_loop, name="dg-pipeline-sender", daemon=True)
            self._sender.start()
        return self

    def close(self) -> None:
        """Send everything queued, let the pipeline write it and assess once more, stop it."""
        if self._closed:
            return
        self._closing = True
        self._closed = True
        if self._sender is None:
            return  # never started: nothing was sent, nothing runs
        self._wake.set()
        deadline = time.monotonic() + self.close_timeout_s
        self._sender.join(self.close_timeout_s)
        while not self._done.wait(0.1):
            if time.monotonic() > deadline or not self._process.is_alive():
                log.error(
                    "event pipeline did not confirm its last writes (%d events queued)", len(self._events)
                )
                break
        if self._process is not None:
            self._process.join(10)
            if self._process.is_alive():
                self._process.terminate()
        if self._conn is not None:
            self._conn.close()

    def __enter__(self) -> PipelineProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- gateway side, background threads ---------------------------------------------------
    def _spawn(self) -> None:
        # A fresh interpreter (no fork: the gateway has threads), started by module name
        # rather than multiprocessing's spawn, which re-runs the parent's __main__ script.
        # Its own process group: a Ctrl-C in the terminal reaches the gateway only, which
        # then closes us in order; `pipeline_main` ignores SIGINT/SIGTERM before any import.
        ours, theirs = mp.Pipe(duplex=True)
        package_root = str(Path(__file__).resolve().parents[2])  # this distillguard, not another
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        popen = subprocess.Popen(
            [sys.executable, "-m", "distillguard.gateway.pipeline_main", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env=env,
            process_group=0,
        )
        theirs.close()
        self._process = _Child(popen)
        with contextlib.suppress(OSError):  # died at once: the next send fails and restarts it
            ours.send_bytes(_SETUP + _encode((self.settings, self.detect)))
        self._conn = ours
        threading.Thread(
            target=self._receive_loop, args=(ours,), name="dg-pipeline-receiver", daemon=True
        ).start()

    def _send_loop(self) -> None:
        events, accounts = self._events, self._accounts
        batch: list[RequestEvent] = []
        while True:
            closing = self._closing  # read before draining: nothing is queued after it
            if not closing:
                self._wake.wait(self.flush_interval_s)
                self._wake.clear()
            try:
                while accounts:
                    batch_a = [accounts.popleft() for _ in range(min(len(accounts), self.max_batch))]
                    self._send(_ACCOUNTS + _encode(batch_a))
                while events:
                    batch = [events.popleft() for _ in range(min(len(events), self.max_batch))]
                    self._send(_EVENTS + _encode(batch))
                    batch = []
                if closing:
                    self._send(_CLOSE)
                    return
            except (OSError, EOFError, ValueError):
                # The pipeline process is gone: what it had not written is lost; the batch
                # that failed to send goes back to the queue for a new process.
                log.exception("event pipeline process failed; restarting it")
                events.extendleft(reversed(batch))
                batch = []
                if self.restarts >= self.max_restarts:
                    log.error("event pipeline failed %d times; giving up (events are dropped)", self.restarts)
                    self._closing = True
                    self.dropped += len(events)
                    events.clear()
                    self._done.set()
                    return
                self._restart()

    def _send(self, data: bytes) -> None:
        assert self._conn is not None
        self._conn.send_bytes(data)

    def _restart(self) -> None:
        """A new pipeline process. Its detector starts empty (what the old one had learned
        from earlier events is lost; accounts are shown to it again)."""
        self.restarts += 1
        self._accounts.clear()
        self._accounts.extend(self._known_accounts.values())
        if self._process is not None:
            self._process.join(1)
            if self._process.is_alive():
                self._process.terminate()
        if self._conn is not None:
            self._conn.close()
        time.sleep(min(5.0, 0.5 * self.restarts))
        self._spawn()

    def _receive_loop(self, conn: Connection) -> None:
        while True:
            try:
                data = conn.recv_bytes()
            except (OSError, EOFError):
                return  # closed, or the process died (the sender notices and restarts it)
            kind, payload = data[:1], data[1:]
            if kind == _ASSESSMENT:
                self._apply(_decode_assessment(payload))
            elif kind == _DONE:
                self.final_stats = _decode_stats(payload)
                self._done.set()
                return

    def _apply(self, assessment: Assessment) -> None:
        from distillguard.detect.online import tier_entries

        if self.tiers is not None:
            entries = tier_entries(assessment)
            replace = getattr(self.tiers, "replace", None)
            try:
                if replace is not None:
                    replace(entries)
                else:
                    self.tiers.publish(entries)
            except Exception:
                log.exception("publishing tiers failed")
        self.assessments += 1
        self.last_assessment = assessment
        if self.on_assessment is not None:
            try:
                self.on_assessment(assessment)
            except Exception:
                log.exception("on_assessment failed")


# --- the pipeline process -------------------------------------------------------------------


class _KeepNothing:
    """The child's tier store: the gateway publishes from the assessments it is sent."""

    def get(self, account_id: str) -> TierEntry | None:
        return None

    def publish(self, entries: dict[str, TierEntry]) -> None:
        pass


class _Child:
    """The pipeline process, as the rest of this module (and its tests) looks at it."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen
        self.pid = popen.pid

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout)

    def terminate(self) -> None:
        self.popen.kill()  # it ignores SIGTERM on purpose (see pipeline_main)
        self.popen.wait()


def main(fd: int) -> None:
    """The pipeline process (`python -m distillguard.gateway.pipeline_main FD`)."""
    conn = Connection(fd)
    try:
        data = conn.recv_bytes()
    except (EOFError, OSError):
        return
    if data[:1] != _SETUP:
        raise SystemExit("event pipeline: expected the settings first")
    settings, detect = _decode_setup(data[1:])
    run_pipeline(conn, settings, detect)


def run_pipeline(conn: Connection, settings: Settings, detect: bool) -> None:
    """Fingerprint + retain each event, write it, show it to the detector; stop on the
    gateway's CLOSE, or when the pipe ends (the gateway died), after writing what arrived."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s dg-pipeline %(levelname)s %(message)s")
    from distillguard.events.writer import open_sink
    from distillguard.gateway import recorder

    send_lock = threading.Lock()

    def send(data: bytes) -> None:
        with send_lock:
            conn.send_bytes(data)

    writer = open_sink(settings)
    detector: Any = None
    if detect:
        from distillguard.detect.engine import DetectorConfig, DistillGuardDetector
        from distillguard.detect.online import OnlineDetector

        config = DetectorConfig.load(settings.detector_config) if settings.detector_config else None
        detector = OnlineDetector(
            DistillGuardDetector(config),
            _KeepNothing(),
            interval_s=settings.assess_interval_s,
            on_assessment=lambda a: send(_ASSESSMENT + _encode(a)),
        ).start()
    recorder.warm_up()
    retention = settings.retention
    fingerprint = recorder.fingerprint_and_retain
    received = 0
    try:
        while True:
            try:
                data = conn.recv_bytes()
            except (EOFError, OSError):
                log.error("the gateway went away; flushing what arrived")
                break
            kind = data[:1]
            if kind == _EVENTS:
                for event in _decode_events(data[1:]):
                    event = fingerprint(event, retention)
                    writer.submit(event)
                    if detector is not None:
                        detector.submit(event)
                    received += 1
            elif kind == _ACCOUNTS:
                if detector is not None:
                    for info in _decode_accounts(data[1:]):
                        detector.submit_account(info)
            elif kind == _CLOSE:
                break
    finally:
        if detector is not None:
            detector.close()  # drains, assesses once more (sent to the gateway)
        writer.close()
        stats = writer.stats
        with contextlib.suppress(OSError):
            send(
                _DONE
                + _encode(
                    {
                        "received": received,
                        "written": stats.written,
                        "failed": stats.failed,
                        "dropped": stats.dropped,
                        "detected": detector.processed if detector is not None else 0,
                    }
                )
            )
        conn.close()
