"""Compact aggregates of the event log for the console, folded in one pass and then tailed.

The console never scans the log per page: `EventIndex.fold` keeps, per account, counts per
hour and bounded tallies of the indicators analysts look at (IPs and their prefixes, user
agents, prompt skeletons, keys), plus traffic and enforcement actions per hour overall and
per org. Example requests are fetched from the store on demand (its filters, a limit).
"""

from __future__ import annotations

import functools
import ipaddress
from collections import Counter
from dataclasses import dataclass, field

from distillguard.events.schema import RequestEvent

HOUR = 3600.0
# Bounds per account: tallies stop taking new values once full (the first ones seen stay).
MAX_IPS = 64
MAX_UAS = 16
MAX_SKELETONS = 256
MAX_KEYS = 16
NO_ACTION = frozenset({"", "allow", None})


@functools.lru_cache(maxsize=1 << 16)
def ip_prefix(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) network of an address: how proxy pools show up."""
    parts = ip.split(".")
    if len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) < 256 for p in parts):
        return f"{int(parts[0])}.{int(parts[1])}.{int(parts[2])}.0/24"  # the common case, 10x faster
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if addr.version == 6 and addr.ipv4_mapped is not None:
        return ip_prefix(str(addr.ipv4_mapped))
    bits = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{bits}", strict=False))


def _tally(counter: Counter[str], value: str | None, cap: int) -> None:
    if value and (value in counter or len(counter) < cap):
        counter[value] += 1


@dataclass(slots=True)
class AccountActivity:
    account_id: str
    org_id: str = ""
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    hourly: Counter[int] = field(default_factory=Counter)
    hourly_tokens: Counter[int] = field(default_factory=Counter)
    ips: Counter[str] = field(default_factory=Counter)
    prefixes: Counter[str] = field(default_factory=Counter)
    user_agents: Counter[str] = field(default_factory=Counter)
    skeletons: Counter[str] = field(default_factory=Counter)
    keys: Counter[str] = field(default_factory=Counter)
    models: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    cot_sum: float = 0.0


class EventIndex:
    """Folds `RequestEvent`s into per-account and per-hour aggregates."""

    def __init__(self) -> None:
        self.accounts: dict[str, AccountActivity] = {}
        self.hourly: Counter[int] = Counter()
        self.hourly_by_org: dict[str, Counter[int]] = {}
        self.actions_hourly: Counter[int] = Counter()
        self.actions_hourly_by_org: dict[str, Counter[int]] = {}
        self.shadow_hourly: Counter[int] = Counter()
        self.shadow_hourly_by_org: dict[str, Counter[int]] = {}
        self.key_owner: dict[str, str] = {}
        self.org_accounts: dict[str, set[str]] = {}
        self.events = 0
        self.last_seq: int | None = None
        self.first_ts: float | None = None
        self.last_ts: float | None = None

    def fold(self, event: RequestEvent) -> None:
        self.events += 1
        ts = event.ts_start
        hour = int(ts // HOUR)
        acct = self.accounts.get(event.account_id)
        if acct is None:
            acct = self.accounts[event.account_id] = AccountActivity(
                event.account_id, event.org_id, first_seen=ts
            )
            self.org_accounts.setdefault(event.org_id, set()).add(event.account_id)
        acct.requests += 1
        acct.errors += event.status >= 400
        acct.prompt_tokens += event.prompt_tokens
        acct.output_tokens += event.completion_tokens
        acct.reasoning_tokens += event.reasoning_tokens
        acct.first_seen = min(acct.first_seen, ts)
        acct.last_seen = max(acct.last_seen, ts)
        acct.hourly[hour] += 1
        acct.hourly_tokens[hour] += event.completion_tokens
        acct.cot_sum += event.cot_score or 0.0
        if event.client_ip:
            _tally(acct.ips, event.client_ip, MAX_IPS)
            _tally(acct.prefixes, ip_prefix(event.client_ip), MAX_IPS)
        _tally(acct.user_agents, event.user_agent, MAX_UAS)
        _tally(acct.skeletons, event.skeleton_hash, MAX_SKELETONS)
        _tally(acct.models, event.model, MAX_UAS)
        if event.key_id:
            _tally(acct.keys, event.key_id, MAX_KEYS)
            self.key_owner.setdefault(event.key_id, event.account_id)
        self.hourly[hour] += 1
        self.hourly_by_org.setdefault(event.org_id, Counter())[hour] += 1
        if event.action not in NO_ACTION:
            # shadow decisions (decided, not enforced) are counted apart from enforced ones
            if event.shadow:
                acct.actions[f"{event.action} (shadow)"] += 1
                self.shadow_hourly[hour] += 1
                self.shadow_hourly_by_org.setdefault(event.org_id, Counter())[hour] += 1
            else:
                acct.actions[event.action or ""] += 1
                self.actions_hourly[hour] += 1
                self.actions_hourly_by_org.setdefault(event.org_id, Counter())[hour] += 1
        self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
        self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)

    def indicator_accounts(self, kind: str) -> dict[str, int]:
        """How many accounts (all orgs) show each value of `kind`: for specificity."""
        counts: Counter[str] = Counter()
        for acct in self.accounts.values():
            counts.update(getattr(acct, kind).keys())
        return counts
