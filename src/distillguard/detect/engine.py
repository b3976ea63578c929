"""DistillGuardDetector: account behaviour + campaign linking + scoring, online.

`observe` is cheap and incremental (fold the event into the account's fixed-size state;
add any new profile tokens to the linking index). `assess(now)` does the heavier work:
re-score the pairs that changed, find communities, score each community on its combined
traffic and each account on its own, and return flags with reasons.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from distillguard.detect.accounts import (
    AccountState,
    WindowConfig,
    lsh_band_keys,
    observe_event,
)
from distillguard.detect.api import Assessment, Flag, Reason, Tier
from distillguard.detect.linking import (
    CONTENT_TYPES,
    PAY,
    REPLACEMENT,
    SKEL,
    TOPIC,
    TYPE_NAMES,
    CampaignLinker,
    LinkConfig,
    token,
    token_kind,
)
from distillguard.detect.scoring import (
    GroupStats,
    ScoringConfig,
    features,
    logit_terms,
    narrow_of,
    reasons_for,
    risk_of,
)
from distillguard.events.schema import AccountInfo, RequestEvent

Enricher = Callable[[RequestEvent], Any]


def _load_enricher() -> Enricher | None:
    """`fingerprint.enrich` when that area is installed (looked up by name: it is optional)."""
    try:
        module = importlib.import_module("distillguard.fingerprint")
    except ImportError:
        return None
    enrich: Enricher | None = getattr(module, "enrich", None)
    return enrich


@dataclass(slots=True)
class DetectorConfig:
    """All knobs of the engine; loadable from the JSON/TOML file `calibrate` writes."""

    window: WindowConfig = field(default_factory=WindowConfig)
    link: LinkConfig = field(default_factory=LinkConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    full_relink_every_s: float = 6 * 3600.0
    forget_after_s: float = 14 * 86400.0  # drop accounts idle this long (bounded memory)
    replacement_bucket_s: float = 600.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["link"]["weights"] = {TYPE_NAMES[k]: v for k, v in self.link.weights.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        cfg = cls()
        for section, obj in (("window", cfg.window), ("link", cfg.link), ("scoring", cfg.scoring)):
            for key, value in (data.get(section) or {}).items():
                if key == "weights" and section == "link":
                    by_name = {v: k for k, v in TYPE_NAMES.items()}
                    for name, w in value.items():
                        cfg.link.weights[by_name[name]] = float(w)
                elif isinstance(getattr(obj, key, None), dict):
                    getattr(obj, key).update(value)
                elif key in {f.name for f in fields(obj)}:
                    setattr(obj, key, value)
                else:
                    raise ValueError(f"unknown setting {section}.{key}")
        for key in ("full_relink_every_s", "forget_after_s", "replacement_bucket_s"):
            if key in data:
                setattr(cfg, key, float(data[key]))
        return cfg

    @classmethod
    def load(cls, path: str | Path) -> DetectorConfig:
        path = Path(path)
        text = path.read_text()
        if path.suffix == ".toml":
            import tomllib

            return cls.from_dict(tomllib.loads(text))
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")


# How a shared indicator reads in a reason ("... accounts share a payment method").
_SHARED_WHAT = {
    "shared_system_prompt": "a system prompt",
    "shared_ip_prefix": "an IP prefix",
    "shared_user_agent": "a user agent",
    "shared_payment": "a payment method",
    "shared_email_domain": "an email domain",
    "shared_signup_ip": "a signup IP prefix",
    "signup_burst": "a signup window of minutes",
}


class DistillGuardDetector:
    """The Detector (see detect/api.py) that DistillBench, `hunt` and the gateway run."""

    name = "distillguard"

    def __init__(self, config: DetectorConfig | None = None, *, enrich: bool = True) -> None:
        self.config = config or DetectorConfig()
        self.accounts: dict[str, AccountState] = {}
        self.linker = CampaignLinker(self.config.link)
        self._enrich = _load_enricher() if enrich else None
        self._dirty_accounts: set[str] = set()
        self._account_flags: dict[str, Flag] = {}
        self._campaign_flags: dict[str, Flag] = {}
        self._campaign_of: dict[str, str] = {}
        self._campaign_seq = 0
        self._last_full_relink = -math.inf
        self._last_bucket: dict[str, int] = {}
        self._by_last_bucket: dict[int, set[str]] = {}
        self._new_accounts: list[str] = []
        self.events_seen = 0
        # highest risk each account ever had (own or inherited from its campaign), for calibrate
        self.max_risk: dict[str, float] = {}
        self._scored_n: dict[str, int] = {}
        self._link_degree: dict[str, int] = {}
        self._link_best: dict[str, float] = {}
        self._link_best_strong: dict[str, float] = {}
        self._last_forget = -math.inf
        self._campaign_cache: dict[str, tuple[int, int, Flag]] = {}  # cid -> (members hash, n, flag)
        self._paid_together: set[str] = set()
        self._campaign_rate: dict[str, float] = {}  # cid -> requests per member per active day
        # per account: its strongest link that carries content/payment evidence *and* shared
        # infrastructure/signup metadata (strength, infrastructure part), for fresh members
        self._link_corroborated: dict[str, tuple[float, float]] = {}
        self._comp_size: dict[str, int] = {}

    # ---- input ----------------------------------------------------------------------
    def _state(self, account_id: str) -> AccountState:
        state = self.accounts.get(account_id)
        if state is None:
            state = self.accounts[account_id] = AccountState(account_id, self.config.window)
        return state

    def observe_account(self, info: AccountInfo) -> None:
        state = self._state(info.account_id)
        state.info = info
        state.created_at = info.created_at or None
        if info.org_id:
            state.org_id = info.org_id
            self.linker.set_org(info.account_id, info.org_id)
        self.linker.add_tokens(info.account_id, self.linker.info_tokens(state))

    def observe(self, event: RequestEvent) -> None:
        if self._enrich is not None and event.skeleton_hash is None and event.prompt_text:
            self._enrich(event)
        self.events_seen += 1
        account_id = event.account_id
        state = self._state(account_id)
        if state.n == 0:
            self._new_accounts.append(account_id)
            if event.org_id and not state.org_id:
                self.linker.set_org(account_id, event.org_id)
        version = state.version
        cfg = self.config.window
        bands = lsh_band_keys(event.minhash, cfg.lsh_bands, cfg.lsh_rows) if event.minhash else []
        new_skeletons, new_topics = observe_event(state, event, cfg, bands)
        if state.version != version:
            toks = [token(SKEL, v) for v in new_skeletons]
            toks.extend(token(TOPIC, v) for v in new_topics)
            toks.extend(self.linker.meta_tokens(state))
            self.linker.add_tokens(account_id, toks)
        self._dirty_accounts.add(account_id)
        bucket = int(state.last_seen // self.config.replacement_bucket_s)
        old = self._last_bucket.get(account_id)
        if old != bucket:
            if old is not None:
                members = self._by_last_bucket.get(old)
                if members is not None:
                    members.discard(account_id)
                    if not members:
                        del self._by_last_bucket[old]
            self._by_last_bucket.setdefault(bucket, set()).add(account_id)
            self._last_bucket[account_id] = bucket

    # ---- replacement after ban ------------------------------------------------------
    def _find_replacements(self, now: float) -> None:
        link = self.config.link
        keep: list[str] = []
        size = self.config.replacement_bucket_s
        for new_id in self._new_accounts:
            new = self.accounts[new_id]
            if new.first_seen > now - link.replacement_quiet_s:
                keep.append(new_id)
                continue
            lo = int((new.first_seen - link.replacement_gap_s) // size)
            hi = int((new.first_seen + 60) // size)
            for bucket in range(lo, hi + 1):
                for old_id in self._by_last_bucket.get(bucket, ()):
                    old = self.accounts[old_id]
                    if old_id == new_id or old.first_seen >= new.first_seen:
                        continue
                    gap = new.first_seen - old.last_seen
                    if not (-60 <= gap <= link.replacement_gap_s):
                        continue
                    key = (old_id, new_id) if old_id < new_id else (new_id, old_id)
                    if key in self.linker.pairs:
                        self.linker.note_replacement(old_id, new_id, gap)
        self._new_accounts = keep

    # ---- judgement ------------------------------------------------------------------
    def assess(self, now: float) -> Assessment:
        if now - self._last_forget >= 3600.0:
            self._last_forget = now
            self.forget_idle(now)
        self._find_replacements(now)
        breadth = self.linker.breadth
        for account_id in self._dirty_accounts:
            state = self.accounts[account_id]
            if state.n > self.config.link.breadth_ref:  # only broad accounts can be discounted
                breadth[account_id] = state.skeletons.distinct()
        full = now - self._last_full_relink >= self.config.full_relink_every_s
        if full:
            self._last_full_relink = now
        self.linker.relink(full=full)
        self._score_campaigns(now)
        self._score_accounts(now)
        accounts = {a: f for a, f in self._account_flags.items() if f.tier >= Tier.WATCH}
        campaigns = {c: f for c, f in self._campaign_flags.items() if f.tier >= Tier.WATCH}
        return Assessment(at=now, accounts=accounts, campaigns=campaigns)

    def _campaign_id(self, members: list[str], taken: set[str]) -> str:
        votes = Counter(self._campaign_of[m] for m in members if m in self._campaign_of)
        for cid, _ in votes.most_common():
            if cid not in taken:
                return cid
        self._campaign_seq += 1
        return f"camp-{self._campaign_seq:05d}"

    def _score_campaigns(self, now: float) -> None:
        comps = self.linker.components()
        root_of: dict[str, int] = {}
        for i, comp in enumerate(comps):
            for m in comp:
                root_of[m] = i
        strong_sum = [0.0] * len(comps)
        weak_sum = [0.0] * len(comps)
        edge_n = [0] * len(comps)
        sample_edges: list[list[tuple[str, str]]] = [[] for _ in comps]  # for reasons
        degree: dict[str, int] = {}
        best: dict[str, float] = {}
        best_strong: dict[str, float] = {}
        paid: set[str] = set()  # fresh accounts paid with the same card as a linked account
        corroborated: dict[str, tuple[float, float]] = {}
        fresh_strong = self.config.scoring.fresh_link_strong
        for key, (strength, strong, weak) in self.linker.edges.items():
            i = root_of.get(key[0], -1)
            if i < 0 or root_of.get(key[1], -1) != i:
                continue  # an edge Louvain cut between two communities
            for end in key:
                degree[end] = degree.get(end, 0) + 1
                if strength > best.get(end, 0.0):
                    best[end] = strength
                if strong > best_strong.get(end, 0.0):
                    best_strong[end] = strong
                if strong >= fresh_strong and strength > corroborated.get(end, (0.0, 0.0))[0]:
                    corroborated[end] = (strength, weak)
            if (
                strong >= 0.7
                and any(self.accounts[e].n < 10 for e in key if e in self.accounts)
                and any(token_kind(t) == PAY for t in self.linker.pairs.get(key, ()))
            ):
                paid.update(key)
            strong_sum[i] += strong
            weak_sum[i] += weak
            edge_n[i] += 1
            if len(sample_edges[i]) < 64:
                sample_edges[i].append(key)
        self._link_degree = degree
        self._link_best = best
        self._link_best_strong = best_strong
        self._paid_together = paid
        self._link_corroborated = corroborated
        self._comp_size = {m: len(comp) for comp in comps for m in comp}
        taken: set[str] = set()
        new_flags: dict[str, Flag] = {}
        new_campaign_of: dict[str, str] = {}
        scoring = self.config.scoring
        cache = self._campaign_cache
        new_cache: dict[str, tuple[int, int, Flag]] = {}
        old_rate = self._campaign_rate
        new_rate: dict[str, float] = {}
        for i, comp in enumerate(comps):
            members = [self.accounts[m] for m in comp if m in self.accounts]
            total_n = sum(m.n for m in members)
            if total_n == 0:
                continue
            cid = self._campaign_id(comp, taken)
            taken.add(cid)
            for m in comp:
                new_campaign_of[m] = cid
            members_hash = hash(tuple(comp))
            cached = cache.get(cid)
            if cached is not None and cached[0] == members_hash and total_n < cached[1] * 1.03 + 3:
                flag = cached[2]
                flag.requests = total_n
                # the score is cached, who is named is not
                flag.accounts = self._named(cid, members, old_rate.get(cid, 0.0), flag.tier)
                new_flags[cid] = flag
                new_cache[cid] = cached
                new_rate[cid] = old_rate.get(cid, 0.0)
                continue
            g = GroupStats.of(members, self.config.window.topic_k)
            rate = new_rate[cid] = _load_weighted_rate(members)
            x = features(g, strong_sum[i] / max(1, edge_n[i]), weak_sum[i] / max(1, edge_n[i]))
            terms = logit_terms(x, scoring)
            risk = risk_of(terms, scoring)
            tier = scoring.tier_of(risk, g.n)
            previous = self._campaign_flags.get(cid)
            first = previous.first_flagged if previous else None
            if first is None and tier >= Tier.SUSPECT:
                first = now
            new_flags[cid] = Flag(
                kind="campaign",
                subject_id=cid,
                risk=round(risk, 4),
                tier=tier,
                reasons=(
                    reasons_for(g, x, terms, self._link_reasons(comp, sample_edges[i], g))
                    if tier >= Tier.WATCH
                    else []
                ),
                # members tied in firmly; the rest stay linked (campaign_of) but are not named
                accounts=self._named(cid, members, rate, tier),
                first_flagged=first,
                requests=g.n,
                output_tokens=g.output_tokens,
            )
            new_cache[cid] = (members_hash, g.n, new_flags[cid])
        self._campaign_cache = new_cache
        self._campaign_rate = new_rate
        self._campaign_flags = new_flags
        self._campaign_of = new_campaign_of

    def _named(self, cid: str, members: list[AccountState], rate: float, tier: Tier) -> list[str]:
        """The members a campaign at `tier` names (they take its tier and budget): those that
        inherit (`_inherits`), and those it named before while they stay linked into it (a
        replacement named on its card's first request stays named once it has 10 requests).
        Below WATCH a campaign names nobody in particular: all its members are listed."""
        if tier < Tier.WATCH:
            return [m.account_id for m in members]
        previous = self._campaign_flags.get(cid)
        kept = set(previous.accounts) if previous is not None and previous.tier >= Tier.WATCH else set()
        return [
            m.account_id for m in members if m.account_id in kept or self._inherits(m.account_id, rate, tier)
        ]

    def _link_reasons(self, comp: list[str], edges: list[tuple[str, str]], g: GroupStats) -> list[Reason]:
        summary = self.linker.shared_summary(edges)
        out: list[Reason] = []
        for kind, (pairs, spec) in sorted(summary.items(), key=lambda kv: -kv[1][0] * kv[1][1])[:3]:
            name = TYPE_NAMES[kind]
            what = "prompt templates" if kind in CONTENT_TYPES else _SHARED_WHAT.get(name, name)
            evidence: list[str] = []
            if kind in CONTENT_TYPES:
                for m in g.members[:3]:
                    evidence.extend(m.evidence.get("skeleton", ())[:1])
            out.append(
                Reason(
                    code=name,
                    weight=0.0,
                    detail=(
                        f"{pairs} linked account pairs among {len(comp)} accounts share {what}"
                        f" (mean specificity {spec:.2f})."
                    ),
                    evidence=evidence,
                )
            )
        n_repl = self.linker.replacement_count(comp)
        if n_repl:
            out.append(
                Reason(
                    code=REPLACEMENT,
                    weight=0.0,
                    detail=f"{n_repl} times a fresh account took over right after a linked one went quiet.",
                )
            )
        return out

    def _score_accounts(self, now: float) -> None:
        scoring = self.config.scoring
        dirty = self._dirty_accounts
        self._dirty_accounts = set()
        scored_n = self._scored_n
        for account_id in dirty:
            state = self.accounts[account_id]
            # features move slowly once an account has history: re-score on 5% growth
            last_n = scored_n.get(account_id, 0)
            if last_n >= 40 and state.n < last_n * 1.05:
                flag = self._account_flags.get(account_id)
                if flag is not None:
                    flag.requests = state.n
                    flag.output_tokens = state.output_tokens
                continue
            scored_n[account_id] = state.n
            g = GroupStats.of([state], self.config.window.topic_k)
            x = features(g)
            terms = logit_terms(x, scoring)
            risk = risk_of(terms, scoring)
            tier = scoring.tier_of(risk, g.n)
            if g.n >= scoring.min_requests and risk > self.max_risk.get(account_id, 0.0):
                self.max_risk[account_id] = risk
            previous = self._account_flags.get(account_id)
            if tier < Tier.WATCH and previous is None:
                continue
            first = previous.first_flagged if previous else None
            if first is None and tier >= Tier.SUSPECT:
                first = now
            self._account_flags[account_id] = Flag(
                kind="account",
                subject_id=account_id,
                risk=round(risk, 4),
                tier=tier,
                reasons=reasons_for(g, x, terms, []),
                first_flagged=first,
                requests=g.n,
                output_tokens=g.output_tokens,
            )
        # campaign members inherit the campaign's tier (and id)
        for cid, cflag in self._campaign_flags.items():
            if cflag.requests >= scoring.min_requests:
                for m in cflag.accounts:
                    if cflag.risk > self.max_risk.get(m, 0.0):
                        self.max_risk[m] = cflag.risk
            if cflag.tier < Tier.WATCH:
                continue
            for m in cflag.accounts:  # named this assessment (`_named`)
                own = self._account_flags.get(m)
                if own is None or own.tier <= cflag.tier:
                    state = self.accounts[m]
                    self._account_flags[m] = Flag(
                        kind="account",
                        subject_id=m,
                        risk=max(cflag.risk, own.risk if own else 0.0),
                        tier=cflag.tier,
                        reasons=cflag.reasons if own is None else (cflag.reasons + own.reasons)[:5],
                        campaign_id=cid,
                        first_flagged=(
                            own.first_flagged if own and own.first_flagged else cflag.first_flagged
                        ),
                        requests=state.n,
                        output_tokens=state.output_tokens,
                    )
                else:
                    own.campaign_id = cid

    def forget_idle(self, now: float) -> int:
        """Drop unflagged accounts idle for `forget_after_s` (bounded memory on long runs)."""
        horizon = now - self.config.forget_after_s
        idle = {
            a
            for a, s in self.accounts.items()
            if a not in self._account_flags
            and a not in self._campaign_of
            and (s.last_seen if s.n else (s.created_at or now)) < horizon
        }
        if not idle:
            return 0
        for account_id in idle:
            del self.accounts[account_id]
            self._scored_n.pop(account_id, None)
            self._dirty_accounts.discard(account_id)
            bucket = self._last_bucket.pop(account_id, None)
            if bucket is not None:
                members = self._by_last_bucket.get(bucket)
                if members is not None:
                    members.discard(account_id)
                    if not members:
                        del self._by_last_bucket[bucket]
        self._new_accounts = [a for a in self._new_accounts if a not in idle]
        self.linker.forget(idle)
        return len(idle)

    def _inherits(
        self, account_id: str, campaign_rate: float = 0.0, campaign_tier: Tier = Tier.WATCH
    ) -> bool:
        """A member takes its campaign's tier only when it is tied in firmly (two links, or
        one strong one, with content/payment evidence) and, once it has some history, its
        own traffic has the harvest shape: sustained volume (several requests a day) of
        reasoning/grading/data-generation or agentic prompts, and not a narrow fixed workload,
        and it carries its share of the campaign's load (a campaign spreads its harvest over
        its accounts; a member far slower than the rest is more likely a bystander tied in by
        chance overlap, e.g. a student asking the same popular question).
        One chance link must not drag a student, a chat user or a lab into a campaign."""
        state = self.accounts[account_id]
        scoring = self.config.scoring
        if state.n < 10 and account_id in self._paid_together:
            return True  # a replacement after a ban inherits its campaign's tier from its first request
        best = self._link_best.get(account_id, 0.0)
        # a campaign of two accounts has one link per member: it must be a firm one
        pair = self._comp_size.get(account_id, 0) == 2 and best >= scoring.pair_link_min
        if self._link_degree.get(account_id, 0) < 2 and best < 0.8 and not pair:
            return False
        if self._link_best_strong.get(account_id, 0.0) < 0.35:
            return False  # tied in by infrastructure only (a campus NAT, a popular SDK)
        if self._fresh_member(state, campaign_tier):
            return True
        if state.n < 10:
            return False  # too little of its own traffic to judge; flags are sticky, so wait
        intent = state.share(state.n_cot + state.n_rubric + state.n_datagen)
        agentic = state.share(state.n_tools)
        extraction = min(state.share(state.n_logprobs), state.share(state.n_logit_bias))
        if extraction >= 0.3:
            return True
        intensity, narrow, per_day = self._shape_of(state)
        if intensity < scoring.member_intensity or narrow >= 0.5:
            return False  # a dozen questions a day or fewer (a person), or one benchmark re-run (a lab)
        # judged once the account has a day of history (a fresh replacement is still ramping up)
        if state.active_span_s() >= 86400.0 and per_day < scoring.member_rate_share * campaign_rate:
            return False
        # agent frameworks run long multi-turn tool loops; a farm fires fresh one-shot tasks
        return intent >= 0.25 or (agentic >= 0.5 and state.share(state.n_single_turn) >= 0.3)

    def _fresh_member(self, state: AccountState, campaign_tier: Tier) -> bool:
        """A fresh account (its first day, too few requests to judge its own volume) joins a
        campaign already LIKELY or CONFIRMED when its link is strong and corroborated (shared
        prompt content or payment, and shared infrastructure/signup metadata, or it began
        sending within a day of signing up) and every one of its first requests has the
        harvest shape: a one-shot reasoning/grading/data-generation prompt or a logit probe.
        A student who asks a popular question shares its content but not the rest."""
        scoring = self.config.scoring
        if campaign_tier < Tier.LIKELY or state.n < scoring.fresh_min_requests:
            return False
        if state.active_span_s() >= 86400.0:
            return False  # it has history: judged on its own volume and load share
        strength, infra = self._link_corroborated.get(state.account_id, (0.0, 0.0))
        if strength < scoring.fresh_link_min:
            return False
        age = state.age_at_first_request_s()
        young = age is not None and age < 86400.0
        if infra < scoring.fresh_link_infra and not young:
            return False
        extraction = min(state.share(state.n_logprobs), state.share(state.n_logit_bias))
        if extraction >= 0.5:
            return True
        intent = state.share(state.n_cot + state.n_rubric + state.n_datagen)
        return intent >= scoring.fresh_intent_share and state.share(state.n_single_turn) >= 0.8

    @staticmethod
    def _shape_of(state: AccountState) -> tuple[float, float, float]:
        """(intensity, narrowness, requests per active day) of one account, as `features`
        computes them for a group of one, without building the group: naming is re-evaluated
        for every member at every assessment."""
        per_day = state.n / max(1.0, state.active_span_s() / 86400.0)
        intensity = min(1.0, math.log10(1.0 + per_day) / math.log10(51.0))
        return intensity, narrow_of(state.n, state.skeletons.distinct()), per_day

    # ---- introspection --------------------------------------------------------------
    def memory_bytes_per_account(self) -> float:
        """Approximate bytes held per tracked account (state + linking profile)."""
        if not self.accounts:
            return 0.0
        sample = list(self.accounts.values())[: min(200, len(self.accounts))]
        total = 0
        for s in sample:
            total += sys.getsizeof(s)
            for attr in AccountState.__slots__:
                value = getattr(s, attr)
                total += _deep_size(value)
        per = total / len(sample)
        # the shared structures (token index, pairs) divided over accounts
        index = self.linker.index
        shared = sys.getsizeof(index) + sum(
            32 + (sys.getsizeof(v) if isinstance(v, list) else 0) for v in index.values()
        )
        shared += sys.getsizeof(self.linker.pairs) + sum(
            sys.getsizeof(v) + 64 + 32 * len(v) for v in self.linker.pairs.values()
        )
        return per + shared / len(self.accounts)


def _load_weighted_rate(members: list[AccountState]) -> float:
    """Requests per active day of a typical member, weighted by requests: the rate of the
    accounts that carry the campaign's load, not diluted by quiet bystanders tied into it."""
    total = 0
    weighted = 0.0
    for m in members:
        if m.n:
            total += m.n
            weighted += m.n * m.n / max(1.0, m.active_span_s() / 86400.0)
    return weighted / total if total else 0.0


def _deep_size(value: object) -> int:
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(_deep_size(k) + _deep_size(v) for k, v in value.items())
    elif isinstance(value, (list, set, tuple, frozenset)):
        size += sum(sys.getsizeof(v) for v in value)
    elif hasattr(value, "__slots__") and not isinstance(value, (str, int, float)):
        for attr in getattr(value, "__slots__", ()):
            size += _deep_size(getattr(value, attr, None))
    return size
