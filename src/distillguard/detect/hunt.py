"""Batch detection over an event log: `distillguard hunt FILE|DB --out DIR`.

The same engine as online, fed the log in time order with an assessment every `cadence_s`
of log time, so the flags (and when they were first raised) are what the online detector
would have published. Writes `flags.json` (machines) and `report.md` (analysts).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from distillguard.detect.api import Assessment, Detector, Flag, Tier
from distillguard.events.schema import AccountInfo, RequestEvent, event_from_json

ProgressFn = Callable[[int, float], None]


@dataclass(slots=True)
class HuntResult:
    final: Assessment
    first_flagged: dict[str, float] = field(default_factory=dict)  # account -> first time >= SUSPECT
    events: int = 0
    assessments: int = 0


def run_batch(
    detector: Detector,
    events: Iterable[RequestEvent],
    accounts: Iterable[AccountInfo] = (),
    *,
    cadence_s: float = 300.0,
    threshold: Tier = Tier.SUSPECT,
    progress: ProgressFn | None = None,
) -> HuntResult:
    """Replay time-ordered events (accounts shown at their signup time) through `detector`."""
    pending = sorted(accounts, key=lambda a: a.created_at)
    shown = 0
    first: dict[str, float] = {}
    n_events = n_assess = 0
    tick: float | None = None
    last = 0.0
    dirty = False

    def assess(now: float) -> Assessment:
        nonlocal n_assess
        n_assess += 1
        result = detector.assess(now)
        for acct, flag in result.accounts.items():
            if flag.tier >= threshold and acct not in first:
                first[acct] = now
        return result

    for event in events:
        ts = event.ts_start
        if tick is None:
            tick = (ts // cadence_s + 1) * cadence_s
        while tick <= ts:
            while shown < len(pending) and pending[shown].created_at < tick:
                detector.observe_account(pending[shown])
                shown += 1
                dirty = True
            if dirty:
                assess(tick)
                dirty = False
                tick += cadence_s
            else:  # nothing new since the last assessment: skip the idle ticks
                tick = max(tick + cadence_s, (ts // cadence_s + 1) * cadence_s)
        while shown < len(pending) and pending[shown].created_at <= ts:
            detector.observe_account(pending[shown])
            shown += 1
        detector.observe(event)
        dirty = True
        n_events += 1
        last = ts
        if progress is not None and n_events % 10_000 == 0:
            progress(n_events, ts)
    for info in pending[shown:]:
        detector.observe_account(info)
    final = assess(last)
    return HuntResult(final=final, first_flagged=first, events=n_events, assessments=n_assess)


# ---- reading logs ------------------------------------------------------------------------
def read_event_log(target: str) -> Iterator[RequestEvent]:
    """Events from a JSONL/Parquet file or an event store URL/path, in time order."""
    try:  # the storage area's reader (files, SQLite, PostgreSQL), when installed
        open_store = importlib.import_module("distillguard.events.open").open_store
    except ImportError:
        open_store = None
    if open_store is not None:
        store = open_store(target, readonly=True)
        try:
            yield from store.iter_events()
        finally:
            store.close()
        return
    path = Path(target)
    if not path.exists():
        raise FileNotFoundError(target)
    if path.suffix == ".parquet":
        raise RuntimeError("reading Parquet needs distillguard.events.open (the storage area)")
    events = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                events.append(event_from_json(line))
            except msgspec.DecodeError as exc:
                raise ValueError(f"{target}:{number}: not a RequestEvent: {exc}") from exc
    events.sort(key=lambda e: e.ts_start)
    yield from events


def read_accounts(path: str | None) -> list[AccountInfo]:
    if not path:
        return []
    decoder = msgspec.json.Decoder(AccountInfo)
    out = []
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                out.append(decoder.decode(line))
    return out


# ---- writing reports ---------------------------------------------------------------------
def _flag_json(flag: Flag) -> dict[str, object]:
    data: dict[str, object] = msgspec.to_builtins(flag)
    data["tier"] = flag.tier.name
    return data


def write_report(result: HuntResult, out_dir: str | Path, *, source: str = "") -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    final = result.final
    campaigns = sorted(final.campaigns.values(), key=lambda f: -f.risk)
    singles = sorted(
        (f for f in final.accounts.values() if f.campaign_id is None or f.campaign_id not in final.campaigns),
        key=lambda f: -f.risk,
    )
    doc = {
        "source": source,
        "events": result.events,
        "assessments": result.assessments,
        "at": final.at,
        "campaigns": [_flag_json(f) for f in campaigns],
        "accounts": [_flag_json(f) for f in sorted(final.accounts.values(), key=lambda f: -f.risk)],
        "first_flagged": result.first_flagged,
    }
    flags_path = out / "flags.json"
    flags_path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")

    lines = [
        "# distillguard hunt",
        "",
        f"Source: `{source}` — {result.events} events, {result.assessments} assessments.",
        "",
        f"{sum(c.tier >= Tier.SUSPECT for c in campaigns)} campaigns and "
        f"{sum(f.tier >= Tier.SUSPECT for f in final.accounts.values())} accounts at SUSPECT or above.",
        "",
    ]
    for c in campaigns:
        if c.tier < Tier.SUSPECT:
            continue
        lines += [
            f"## Campaign {c.subject_id}: {c.tier.name} (risk {c.risk:.2f})",
            "",
            f"{len(c.accounts)} accounts, {c.requests} requests, {c.output_tokens} completion tokens.",
            "",
        ]
        lines += [f"- **{r.code}** ({r.weight:.2f}): {r.detail}" + _ev(r.evidence) for r in c.reasons]
        shown = ", ".join(f"`{a}`" for a in c.accounts[:20])
        more = f" and {len(c.accounts) - 20} more" if len(c.accounts) > 20 else ""
        lines += ["", f"Accounts: {shown}{more}", ""]
    single_flags = [f for f in singles if f.tier >= Tier.SUSPECT]
    if single_flags:
        lines += ["## Accounts flagged on their own", ""]
        for f in single_flags:
            lines += [f"### `{f.subject_id}`: {f.tier.name} (risk {f.risk:.2f}), {f.requests} requests", ""]
            lines += [f"- **{r.code}** ({r.weight:.2f}): {r.detail}" + _ev(r.evidence) for r in f.reasons]
            lines.append("")
    report_path = out / "report.md"
    report_path.write_text("\n".join(lines) + "\n")
    return flags_path, report_path


def _ev(evidence: list[str]) -> str:
    return f" Evidence: {', '.join(f'`{e}`' for e in evidence[:3])}." if evidence else ""
