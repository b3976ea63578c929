"""Small views over a SimResult used by the shape tests."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from distillguard.events.schema import AccountInfo, RequestEvent
from distillguard.sim.generate import SimResult
from distillguard.sim.world import COUNTRIES


def by_persona(r: SimResult) -> dict[str, list[RequestEvent]]:
    out: dict[str, list[RequestEvent]] = defaultdict(list)
    for e in r.events:
        out[r.truth.accounts[e.account_id].persona].append(e)
    return out


def accounts_of(r: SimResult, persona: str) -> list[AccountInfo]:
    return [a for a in r.accounts if r.truth.accounts[a.account_id].persona == persona]


def local_hours(r: SimResult, events: list[RequestEvent]) -> np.ndarray:
    country = {a.account_id: a.country for a in r.accounts}
    tz = np.array([COUNTRIES[country[e.account_id] or "US"][0] for e in events])
    ts = np.array([e.ts_start for e in events])
    return ((ts + tz * 3600) / 3600) % 24


def per_account_daily_max(events: list[RequestEvent]) -> dict[str, int]:
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for e in events:
        counts[(e.account_id, int(e.ts_start // 86400))] += 1
    out: dict[str, int] = defaultdict(int)
    for (acct, _), c in counts.items():
        out[acct] = max(out[acct], c)
    return out
