"""What the console shows, as plain view models: the one seam between detection and pages.

`ConsoleData` joins three sources: the event log (folded into an `EventIndex`, tailed by seq
on refresh; example requests read on demand), the detector's latest `Assessment` (an
`AssessmentSource`: the gateway's OnlineDetector, or a hunt run once at start), and account
metadata (payment fingerprints, signup). Every method takes `scope`, the org a viewer is
limited to (None = all): accounts of other orgs are dropped before anything is computed,
so a scoped page cannot leak them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from distillguard.console.index import HOUR, AccountActivity, EventIndex, ip_prefix
from distillguard.detect.api import Assessment, Flag, Reason, Tier
from distillguard.events.schema import AccountInfo, OrgInfo, RequestEvent

AccountLookup = Callable[[str], AccountInfo | None]
INDICATOR_KINDS = ("prefixes", "user_agents", "skeletons", "payment")
INDICATOR_TITLES = {
    "prefixes": "IP prefix",
    "user_agents": "User agent",
    "skeletons": "Prompt skeleton",
    "payment": "Payment fingerprint (hashed)",
}
MIN_SPECIFICITY = 0.8  # share of the accounts showing an indicator that are campaign members
WITHHELD = "Computed over accounts that include other organisations: details withheld."


class AssessmentSource(Protocol):
    def latest(self) -> Assessment: ...


@dataclass(slots=True)
class FixedAssessment:
    """An assessment computed once (a hunt over the log at start, or a test fixture)."""

    assessment: Assessment
    first_flagged: dict[str, float] = field(default_factory=dict)
    detector: Any = None  # the detector that produced it, to keep following the log with

    def latest(self) -> Assessment:
        return self.assessment


class OnlineAssessment:
    """The gateway's view: whatever the OnlineDetector assessed last."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner  # distillguard.detect.online.OnlineDetector

    def latest(self) -> Assessment:
        found: Assessment | None = self.runner.last_assessment
        return found if found is not None else Assessment(at=time.time())


# ---- view models ---------------------------------------------------------------------------
@dataclass(slots=True)
class AccountRow:
    account_id: str
    org_id: str
    tier: Tier
    risk: float
    requests: int
    output_tokens: int
    reasons: list[str]
    campaign_id: str | None
    first_flagged: float | None = None


@dataclass(slots=True)
class Indicator:
    kind: str  # one of INDICATOR_KINDS
    value: str
    members: int  # campaign members showing it
    accounts: int  # all accounts showing it
    requests: int  # member requests with it (0 where not counted per request)

    @property
    def title(self) -> str:
        return INDICATOR_TITLES[self.kind]

    @property
    def specificity(self) -> float:
        return self.members / self.accounts if self.accounts else 0.0


@dataclass(slots=True)
class Series:
    """Hourly buckets (unix hour numbers) and values, ready for a plot or a table."""

    hours: list[int]
    values: list[float]

    @property
    def total(self) -> float:
        return float(sum(self.values))


@dataclass(slots=True)
class Overview:
    requests: int
    accounts: int
    flagged: int
    campaigns: int
    harvest_tokens: int  # output tokens served to accounts at SUSPECT or above
    tiers: dict[str, int]
    traffic: Series
    actions: Series  # enforced actions per hour
    shadow: Series  # shadow-mode decisions per hour (decided, not enforced)
    flags: Series  # accounts reaching SUSPECT, per hour
    top_campaigns: list[AccountRow]
    assessed_at: float


@dataclass(slots=True)
class AccountView:
    row: AccountRow
    activity: AccountActivity
    info: AccountInfo | None
    flag: Flag | None
    reasons: list[Reason]
    timeline: Series
    samples: list[RequestEvent]


@dataclass(slots=True)
class CampaignView:
    row: AccountRow  # the campaign as a row: account_id holds the campaign id
    flag: Flag
    members: list[AccountRow]
    partial: bool  # members outside the viewer's org exist (neither named nor counted)
    reasons: list[Reason]
    indicators: list[Indicator]
    edges: list[tuple[str, str, int]]  # member pairs sharing specific indicators, and how many
    timeline: Series
    harvest_timeline: Series
    requests: int
    output_tokens: int
    reasoning_tokens: int
    harvest_before_flag: int
    harvest_after_flag: int
    first_seen: float
    last_seen: float
    examples: list[RequestEvent]


@dataclass(slots=True)
class SearchHit:
    kind: str  # account | org | key | ip | skeleton | payment | campaign
    value: str
    accounts: list[AccountRow]


# ---- the provider ----------------------------------------------------------------------------
class ConsoleData:
    def __init__(
        self,
        store: Any,
        source: AssessmentSource,
        *,
        accounts: Mapping[str, AccountInfo] | AccountLookup | None = None,
        orgs: Mapping[str, OrgInfo] | None = None,
        index: EventIndex | None = None,
        refresh_s: float = 2.0,
    ) -> None:
        self.store = store
        self.source = source
        if accounts is None:
            self._lookup: AccountLookup = lambda _a: None
        elif callable(accounts):
            self._lookup = accounts
        else:
            self._lookup = accounts.get
        self.orgs = dict(orgs or {})
        self.index = index or EventIndex()
        self.refresh_s = refresh_s
        self._refreshed_at = -1e18
        # held while folding and while a page reads the index: the index is plain dicts
        self.lock = threading.RLock()
        self.on_event: Callable[[RequestEvent], None] | None = None  # e.g. a live detector's submit
        self._indicator_cache: tuple[int, dict[str, dict[str, int]]] | None = None

    # --- keeping up with the log -------------------------------------------------------
    def refresh(self, *, force: bool = False) -> int:
        """Fold events appended since the last refresh (at most every `refresh_s`)."""
        now = time.monotonic()
        if not force and now - self._refreshed_at < self.refresh_s:
            return 0
        with self.lock:
            self._refreshed_at = now
            iter_with_seq = getattr(self.store, "iter_with_seq", None)
            if iter_with_seq is None:
                return 0
            n = 0
            for seq, event in iter_with_seq(after_seq=self.index.last_seq):
                if self.on_event is not None:
                    self.on_event(event)  # before folding: it may fill in fingerprints
                self.index.fold(event)
                self.index.last_seq = seq
                n += 1
            return n

    # --- helpers -------------------------------------------------------------------------
    def assessment(self) -> Assessment:
        return self.source.latest()

    def account_info(self, account_id: str) -> AccountInfo | None:
        try:
            return self._lookup(account_id)
        except Exception:  # a registry hiccup must not break a page
            return None

    def org_of(self, account_id: str) -> str:
        acct = self.index.accounts.get(account_id)
        if acct is not None:
            return acct.org_id
        info = self.account_info(account_id)
        return info.org_id if info else ""

    def visible(self, account_id: str, scope: str | None) -> bool:
        return scope is None or self.org_of(account_id) == scope

    def _first_flagged(self, account_id: str, flag: Flag | None) -> float | None:
        extra = getattr(self.source, "first_flagged", None) or {}
        return extra.get(account_id) or (flag.first_flagged if flag else None)

    def _row(self, account_id: str, assessment: Assessment) -> AccountRow:
        flag = assessment.accounts.get(account_id)
        act = self.index.accounts.get(account_id)
        return AccountRow(
            account_id=account_id,
            org_id=act.org_id if act else self.org_of(account_id),
            tier=flag.tier if flag else Tier.NORMAL,
            risk=flag.risk if flag else 0.0,
            requests=act.requests if act else (flag.requests if flag else 0),
            output_tokens=act.output_tokens if act else (flag.output_tokens if flag else 0),
            reasons=_codes(flag.reasons) if flag else [],
            campaign_id=flag.campaign_id if flag else None,
            first_flagged=self._first_flagged(account_id, flag),
        )

    def _campaign_row(self, flag: Flag, members: list[str]) -> AccountRow:
        acts = [self.index.accounts[m] for m in members if m in self.index.accounts]
        return AccountRow(
            account_id=flag.subject_id,
            org_id="",
            tier=flag.tier,
            risk=flag.risk,
            requests=sum(a.requests for a in acts) if acts else flag.requests,
            output_tokens=sum(a.output_tokens for a in acts) if acts else flag.output_tokens,
            reasons=_codes(flag.reasons),
            campaign_id=flag.subject_id,
            first_flagged=flag.first_flagged,
        )

    def _reasons(
        self, reasons: list[Reason], scope: str | None, *, withheld: Sequence[Reason] = ()
    ) -> list[Reason]:
        """A scoped viewer gets no evidence ids (they may name other orgs' requests), and no
        details of reasons computed over accounts of other orgs (their numbers describe them)."""
        if scope is None:
            return list(reasons)
        return [
            Reason(
                code=r.code, weight=r.weight, detail=WITHHELD if any(r == w for w in withheld) else r.detail
            )
            for r in reasons
        ]

    def _cross_org_reasons(self, flag: Flag, scope: str | None) -> Sequence[Reason]:
        """The reasons an account inherited from a campaign that reaches beyond `scope`."""
        if scope is None or flag.campaign_id is None:
            return ()
        campaign = self.assessment().campaigns.get(flag.campaign_id)
        if campaign is None or all(self.visible(m, scope) for m in campaign.accounts):
            return ()
        return campaign.reasons

    def _scoped_accounts(self, scope: str | None) -> Iterable[str]:
        if scope is None:
            return self.index.accounts.keys()
        return self.index.org_accounts.get(scope, set())

    # --- pages ---------------------------------------------------------------------------
    def overview(self, scope: str | None = None, *, top: int = 8) -> Overview:
        a = self.assessment()
        ids = list(self._scoped_accounts(scope))
        flagged = [
            x for x in a.accounts.values() if x.tier >= Tier.SUSPECT and self.visible(x.subject_id, scope)
        ]
        tiers = Counter(Tier(f.tier).name for f in a.accounts.values() if self.visible(f.subject_id, scope))
        if scope is None:
            traffic, actions, shadow = self.index.hourly, self.index.actions_hourly, self.index.shadow_hourly
        else:
            traffic = self.index.hourly_by_org.get(scope, Counter())
            actions = self.index.actions_hourly_by_org.get(scope, Counter())
            shadow = self.index.shadow_hourly_by_org.get(scope, Counter())
        flag_hours: Counter[int] = Counter()
        for f in flagged:
            when = self._first_flagged(f.subject_id, f)
            if when is not None:
                flag_hours[int(when // HOUR)] += 1
        hours = self._hours(traffic, actions, shadow, flag_hours)
        harvest = sum(
            self.index.accounts[f.subject_id].output_tokens
            for f in flagged
            if f.subject_id in self.index.accounts
        )
        campaigns = self.campaign_rows(scope)[:top]
        return Overview(
            requests=sum(self.index.accounts[i].requests for i in ids),
            accounts=len(ids),
            flagged=len(flagged),
            campaigns=sum(1 for c in self.campaign_rows(scope) if c.tier >= Tier.SUSPECT),
            harvest_tokens=harvest,
            tiers={t.name: tiers.get(t.name, 0) for t in Tier if t >= Tier.WATCH},
            traffic=_series(traffic, hours),
            actions=_series(actions, hours),
            shadow=_series(shadow, hours),
            flags=_series(flag_hours, hours),
            top_campaigns=campaigns,
            assessed_at=a.at,
        )

    def _hours(self, *counters: Counter[int]) -> list[int]:
        keys = [k for c in counters for k in c]
        if not keys:
            return []
        lo, hi = min(keys), max(keys)
        return list(range(lo, hi + 1))

    def account_rows(
        self,
        scope: str | None = None,
        *,
        sort: str = "risk",
        flagged_only: bool = False,
        limit: int | None = 200,
    ) -> list[AccountRow]:
        a = self.assessment()
        ids: Iterable[str] = (
            [x for x in a.accounts if self.visible(x, scope)]
            if flagged_only
            else self._scoped_accounts(scope)
        )
        rows = [self._row(i, a) for i in ids]
        keys: dict[str, Callable[[AccountRow], Any]] = {
            "risk": lambda r: (-r.risk, -r.requests),
            "volume": lambda r: (-r.requests, -r.risk),
            "harvest": lambda r: (-r.output_tokens, -r.risk),
            "reasons": lambda r: (-len(r.reasons), -r.risk),
            "account": lambda r: r.account_id,
        }
        rows.sort(key=keys.get(sort, keys["risk"]))
        return rows[:limit] if limit else rows

    def account(self, account_id: str, scope: str | None = None, *, samples: int = 8) -> AccountView | None:
        act = self.index.accounts.get(account_id)
        if act is None or not self.visible(account_id, scope):
            return None
        a = self.assessment()
        flag = a.accounts.get(account_id)
        hours = self._hours(act.hourly)
        return AccountView(
            row=self._row(account_id, a),
            activity=act,
            info=self.account_info(account_id),
            flag=flag,
            reasons=self._reasons(flag.reasons, scope, withheld=self._cross_org_reasons(flag, scope))
            if flag
            else [],
            timeline=_series(act.hourly, hours),
            samples=self._samples(account_id, flag, samples),
        )

    def _samples(self, account_id: str, flag: Flag | None, n: int) -> list[RequestEvent]:
        wanted = {e for r in flag.reasons for e in r.evidence} if flag else set()
        fetched = self.fetch_events([account_id], per_account=500)
        evidence = [e for e in fetched if e.request_id in wanted]
        rest = [e for e in reversed(fetched) if e.request_id not in wanted]
        return [_enriched(e) for e in (evidence + rest)[:n]]

    def fetch_events(self, account_ids: list[str], *, per_account: int) -> list[RequestEvent]:
        """Up to `per_account` events of each account, in log order.

        Indexed stores (SQLite, PostgreSQL) get one filtered query per account; a file is
        read once, stopping as soon as every account has enough.
        """
        out: list[RequestEvent] = []
        try:
            if hasattr(self.store, "counts_by"):
                for account_id in account_ids:
                    out.extend(self.store.iter_events(account_id=account_id, limit=per_account))
                return out
            need = dict.fromkeys(account_ids, per_account)
            for event in self.store.iter_events():
                left = need.get(event.account_id)
                if left:
                    out.append(event)
                    need[event.account_id] = left - 1
                    if not any(need.values()):
                        break
        except Exception:  # the log went away or is being rotated: show what we have
            pass
        return out

    def campaign_rows(self, scope: str | None = None) -> list[AccountRow]:
        a = self.assessment()
        rows = []
        for flag in a.campaigns.values():
            members = [m for m in flag.accounts if self.visible(m, scope)]
            if members:
                rows.append(self._campaign_row(flag, members))
        rows.sort(key=lambda r: (-r.tier, -r.risk, -r.requests))
        return rows

    def campaign(
        self, campaign_id: str, scope: str | None = None, *, examples: int = 8
    ) -> CampaignView | None:
        a = self.assessment()
        flag = a.campaigns.get(campaign_id)
        if flag is None:
            return None
        members = [m for m in flag.accounts if self.visible(m, scope)]
        if not members:
            return None
        partial = len(members) < len(flag.accounts)
        acts = [self.index.accounts[m] for m in members if m in self.index.accounts]
        hourly: Counter[int] = Counter()
        hourly_tokens: Counter[int] = Counter()
        for act in acts:
            hourly.update(act.hourly)
            hourly_tokens.update(act.hourly_tokens)
        hours = self._hours(hourly)
        first = flag.first_flagged
        before = sum(v for h, v in hourly_tokens.items() if first is None or (h + 1) * HOUR <= first)
        values = {m: self._member_values(m) for m in members}
        indicators = self.indicators(members, values=values)
        rows = sorted((self._row(m, a) for m in members), key=lambda r: (-r.requests, r.account_id))
        return CampaignView(
            row=self._campaign_row(flag, members),
            flag=flag,
            members=rows,
            partial=len(members) < len(flag.accounts),
            reasons=self._reasons(flag.reasons, scope, withheld=flag.reasons if partial else ()),
            indicators=indicators,
            edges=self._edges(members, values),
            timeline=_series(hourly, hours),
            harvest_timeline=_series(hourly_tokens, hours),
            requests=sum(x.requests for x in acts),
            output_tokens=sum(x.output_tokens for x in acts),
            reasoning_tokens=sum(x.reasoning_tokens for x in acts),
            harvest_before_flag=before,
            harvest_after_flag=sum(hourly_tokens.values()) - before,
            first_seen=min((x.first_seen for x in acts), default=0.0),
            last_seen=max((x.last_seen for x in acts), default=0.0),
            examples=self._examples(flag, members, examples),
        )

    # --- indicators ------------------------------------------------------------------------
    def _member_values(self, account_id: str) -> dict[str, Counter[str]]:
        act = self.index.accounts.get(account_id)
        out: dict[str, Counter[str]] = {k: Counter() for k in INDICATOR_KINDS}
        if act is not None:
            out["prefixes"] = act.prefixes
            out["user_agents"] = act.user_agents
            out["skeletons"] = act.skeletons
        info = self.account_info(account_id)
        if info is not None and info.payment_fingerprint:
            out["payment"] = Counter({info.payment_fingerprint: 0})
        return out

    def _all_accounts_per_value(self) -> dict[str, dict[str, int]]:
        cached = self._indicator_cache
        if cached is not None and cached[0] == self.index.events:
            return cached[1]
        counts = {k: self.index.indicator_accounts(k) for k in ("prefixes", "user_agents", "skeletons")}
        payment: Counter[str] = Counter()
        for account_id in self.index.accounts:
            info = self.account_info(account_id)
            if info is not None and info.payment_fingerprint:
                payment[info.payment_fingerprint] += 1
        counts["payment"] = payment
        self._indicator_cache = (self.index.events, counts)
        return counts

    def indicators(
        self,
        members: list[str],
        *,
        per_kind: int = 25,
        values: dict[str, dict[str, Counter[str]]] | None = None,
    ) -> list[Indicator]:
        """Values shared by two or more members and rarely seen outside them."""
        if values is None:
            values = {m: self._member_values(m) for m in members}
        per_value: dict[str, dict[str, list[int]]] = {k: {} for k in INDICATOR_KINDS}
        for m in members:
            for kind, tallies in values[m].items():
                for value, n in tallies.items():
                    per_value[kind].setdefault(value, []).append(n)
        totals = self._all_accounts_per_value()
        need = 2 if len(members) > 1 else 1
        out: list[Indicator] = []
        for kind in INDICATOR_KINDS:
            found = []
            for value, counts in per_value[kind].items():
                everyone = max(totals[kind].get(value, 0), len(counts))
                ind = Indicator(
                    kind=kind, value=value, members=len(counts), accounts=everyone, requests=sum(counts)
                )
                if ind.members >= need and ind.specificity >= MIN_SPECIFICITY:
                    found.append(ind)
            found.sort(key=lambda i: (-i.members, -i.requests, i.value))
            out.extend(found[:per_kind])
        return out

    def _edges(
        self, members: list[str], values: dict[str, dict[str, Counter[str]]], max_edges: int = 2000
    ) -> list[tuple[str, str, int]]:
        shared: Counter[tuple[str, str]] = Counter()
        for ind in self.indicators(members, per_kind=200, values=values):
            having = [m for m in members if ind.value in values[m][ind.kind]]
            # a value on (nearly) every member, or on very many, says nothing about structure
            if len(having) > 150 or (len(members) > 3 and len(having) >= 0.9 * len(members)):
                continue
            for i, x in enumerate(having):
                for y in having[i + 1 :]:
                    shared[(x, y) if x < y else (y, x)] += 1
        return [(x, y, n) for (x, y), n in shared.most_common(max_edges)]

    def _examples(self, flag: Flag, members: list[str], n: int) -> list[RequestEvent]:
        """One request from each of the busiest members, the detector's evidence first."""
        wanted = {e for r in flag.reasons for e in r.evidence}
        busiest = sorted(
            members, key=lambda m: -self.index.accounts[m].requests if m in self.index.accounts else 0
        )
        fetched = self.fetch_events(busiest[:n], per_account=50)
        chosen: dict[str, RequestEvent] = {}
        for event in fetched:
            current = chosen.get(event.account_id)
            if current is None or (event.request_id in wanted and current.request_id not in wanted):
                chosen[event.account_id] = event
        ordered = sorted(chosen.values(), key=lambda e: (e.request_id not in wanted, e.ts_start))
        return [_enriched(e) for e in ordered[:n]]

    # --- search ----------------------------------------------------------------------------
    def search(self, query: str, scope: str | None = None, *, limit: int = 100) -> list[SearchHit]:
        q = query.strip()
        if not q:
            return []
        a = self.assessment()
        accounts = self.index.accounts

        def rows(ids: Iterable[str]) -> list[AccountRow]:
            picked = [i for i in ids if self.visible(i, scope)][:limit]
            return sorted((self._row(i, a) for i in picked), key=lambda r: -r.risk)

        hits: list[SearchHit] = []
        if q in accounts:
            hits.append(SearchHit("account", q, rows([q])))
        elif len(q) >= 4:
            prefixed = [i for i in accounts if i.startswith(q)]
            if prefixed:
                hits.append(SearchHit("account", q + "…", rows(prefixed)))
        if q in self.index.org_accounts:
            hits.append(SearchHit("org", q, rows(self.index.org_accounts[q])))
        if q in self.index.key_owner:
            hits.append(SearchHit("key", q, rows([self.index.key_owner[q]])))
        prefix = ip_prefix(q)
        by_ip = [
            i
            for i, x in accounts.items()
            if q in x.ips or q in x.prefixes or (prefix and prefix in x.prefixes)
        ]
        if by_ip:
            hits.append(SearchHit("ip", q, rows(by_ip)))
        by_skeleton = [i for i, x in accounts.items() if q in x.skeletons]
        if by_skeleton:
            hits.append(SearchHit("skeleton", q, rows(by_skeleton)))
        by_payment = [
            i
            for i in accounts
            if (info := self.account_info(i)) is not None and info.payment_fingerprint == q
        ]
        if by_payment:
            hits.append(SearchHit("payment", q, rows(by_payment)))
        flag = a.campaigns.get(q)
        if flag is not None:
            hits.append(SearchHit("campaign", q, rows(flag.accounts)))
        return [h for h in hits if h.accounts]


def _enriched(event: RequestEvent) -> RequestEvent:
    """Fill in fingerprints for events read from a raw log (the detector did it on its copy)."""
    if event.skeleton_hash is None and event.prompt_text:
        try:
            from distillguard.fingerprint import enrich

            enrich(event)
        except Exception:
            pass
    return event


def _codes(reasons: list[Reason]) -> list[str]:
    seen: list[str] = []
    for r in reasons:
        if r.code not in seen:
            seen.append(r.code)
    return seen


def _series(counter: Mapping[int, float], hours: list[int]) -> Series:
    return Series(hours=hours, values=[float(counter.get(h, 0)) for h in hours])
