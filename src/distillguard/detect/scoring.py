"""Risk in [0, 1] for an account or a campaign, with the reasons behind it.

A subject (one account, or a community of linked accounts taken together) is summarised
by `GroupStats`: the sums of its members' counters. Features are shares and spreads of
that combined traffic, so a thousand quiet accounts are judged like one loud one.

Risk is a logistic model over the features *and* their conjunctions: harvest-like style
alone (a student asking for step-by-step explanations, a batch pipeline) or coordination
alone (a campus behind one NAT) must not be enough; together, with volume, they are.
Every term of the logit that pushes risk up becomes a `Reason` with its numbers, so an
analyst sees why. The coefficients are plain data (`ScoringConfig`), set by hand from
first principles and adjustable by `calibrate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from distillguard.detect.accounts import AccountState, merged_distinct
from distillguard.detect.api import Reason, Tier

DAY = 86400.0


@dataclass(slots=True)
class GroupStats:
    members: list[AccountState]
    n: int = 0
    output_tokens: int = 0
    n_single_turn: int = 0
    n_intent: int = 0
    n_cot: int = 0
    n_rubric: int = 0
    n_datagen: int = 0
    n_logprobs: int = 0
    n_logit_bias: int = 0
    n_one_token: int = 0  # logit_bias with max_tokens <= 1
    n_tools: int = 0
    n_system: int = 0
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    first_seen: float = math.inf
    last_seen: float = 0.0
    young: int = 0  # members whose first request came within a day of signup
    with_signup: int = 0
    gap_cv_sum: float = 0.0
    gap_cv_n: int = 0
    skeleton_distinct: float = 0.0
    topic_distinct: float = 0.0
    active_members: int = 0
    night_sum: float = 0.0  # sum over members of (their night share x their requests)
    active_days: float = 0.0  # sum over members of their active span in days (at least 1)
    stream_n: int = 0  # one-shot reasoning / grading / data-generation prompts
    stream_output_tokens: int = 0
    stream_distinct: float = 0.0  # distinct prompt shapes within that sub-stream
    narrow_sum: float = 0.0  # sum over members of (their own narrowness x their requests)

    @classmethod
    def of(cls, members: list[AccountState], sketch_k: int) -> GroupStats:
        g = cls(members=members)
        for s in members:
            if s.n:
                g.active_members += 1
            g.n += s.n
            g.output_tokens += s.output_tokens
            g.n_single_turn += s.n_single_turn
            g.n_cot += s.n_cot
            g.n_rubric += s.n_rubric
            g.n_datagen += s.n_datagen
            g.n_intent += min(s.n, s.n_cot + s.n_rubric + s.n_datagen)
            g.n_logprobs += s.n_logprobs
            g.n_logit_bias += s.n_logit_bias
            g.n_one_token += s.n_one_token
            g.n_tools += s.n_tools
            g.n_system += s.n_system
            g.stream_n += s.stream_n
            g.stream_output_tokens += s.stream_output_tokens
            for h, c in enumerate(s.hours):
                if c:
                    g.hours[h] += c
            if s.n:
                g.first_seen = min(g.first_seen, s.first_seen)
                g.last_seen = max(g.last_seen, s.last_seen)
            age = s.age_at_first_request_s()
            if age is not None:
                g.with_signup += 1
                if age < DAY:
                    g.young += 1
            if s.gap_n >= 5:
                g.gap_cv_sum += s.gap_cv()
                g.gap_cv_n += 1
            if s.n:
                g.night_sum += member_night(s.hours, s.n) * s.n
                g.active_days += max(1.0, s.active_span_s() / DAY)
                if len(members) > 1:
                    g.narrow_sum += _narrow(s.n, s.skeletons.distinct()) * s.n
        if len(members) == 1:
            g.skeleton_distinct = members[0].skeletons.distinct()
            g.topic_distinct = members[0].topics.distinct()
            g.stream_distinct = members[0].stream_skeletons.distinct()
        else:
            g.stream_distinct = merged_distinct([m.stream_skeletons for m in members], sketch_k)
            g.skeleton_distinct = merged_distinct([m.skeletons for m in members], sketch_k)
            g.topic_distinct = merged_distinct([m.topics for m in members], sketch_k)
        return g

    def share(self, count: int) -> float:
        return count / self.n if self.n else 0.0

    def hour_entropy(self) -> float:
        total = sum(self.hours)
        if total < 2:
            return 0.0
        return -sum((c / total) * math.log(c / total) for c in self.hours if c) / math.log(24)


FEATURES = (
    "intent_share",  # chain-of-thought / rubric / dataset-generation prompts
    "single_turn",  # share of one-shot prompts (no conversation)
    "no_system",  # share without a system prompt (products usually send one)
    "night",  # traffic in the group's quietest 8 hours: ~1/3 round the clock, ~0 for people
    "young",  # share of members that started right after signup
    "regularity",  # 1 - CV of inter-arrival gaps
    "intensity",  # requests per account per active day (log scale, 50/day = 1)
    "templated",  # skeleton reuse: the same prompt shape again and again
    "extraction",  # logprobs together with logit_bias (Carlini-style)
    "one_token",  # logit_bias with max_tokens <= 1: reading one biased next-token distribution
    "narrow",  # few distinct prompt shapes for the volume: an eval suite re-run, one batch job
    "volume",  # log10 requests
    "members",  # log2 active accounts in the campaign
    "coord_content",  # link strength from shared templates, near-duplicates, payment
    "coord_infra",  # link strength from IP prefix, user agent, signup metadata only
    "stream_share",  # share of output tokens served to the harvest-shaped sub-stream
    "stream_volume",  # log10 requests of that sub-stream
    "stream_intensity",  # its requests per account per active day (log scale, 50/day = 1)
    "stream_narrow",  # its prompt shapes grow like an eval suite re-run's (see narrowness)
    "stream_tokens",  # its mean completion tokens per request
)

STYLE = ("intent_share", "single_turn", "night", "no_system", "young", "regularity")


@dataclass(slots=True)
class ScoringConfig:
    """Risk = sigmoid(logit). The logit is built so that no single family of evidence is
    enough: `style` (how harvest-like the traffic looks, in [0, 1]) is multiplied by
    coordination and volume terms."""

    style_weights: dict[str, float] = field(
        default_factory=lambda: {
            "intent_share": 2.0,
            "single_turn": 1.5,
            "night": 1.0,
            "no_system": 0.5,
            "young": 1.0,
            "regularity": 0.5,
            "intensity": 1.5,
        }
    )
    bias: float = -12.0
    style: float = 8.0  # coef of style
    style_x_coordination: float = 8.0  # style * campaign evidence
    volume: float = 1.2  # coef of log10 requests
    members_x_coordination: float = 1.5  # log2 members * content coordination^2
    extraction_x_templated: float = 6.0  # logit_bias+logprobs on near-identical prompts
    extraction: float = 2.0
    # logprobs + logit_bias + max_tokens=1 is the logit-extraction probe itself (Carlini et al.
    # 2024): nothing is generated, only the biased next-token distribution is read
    extraction_probe: float = 4.0
    intent_x_bulk: float = 1.5  # intent share * log10(requests / 1000): a harvest at scale
    coordination_intensity_floor: float = (
        0.3  # intensity (~3 requests/account/day) below which links are ignored
    )
    # a broad, sustained sub-stream of one-shot reasoning/grading/data-generation prompts that
    # takes a real share of the account's output tokens is a harvest even when blended into
    # a product's customer traffic (judged on its own volume, not diluted by the rest)
    harvest_stream: float = 9.0
    stream_share_lo: float = 0.08  # output-token share where the term starts ...
    stream_share_hi: float = 0.2  # ... and where it is full
    stream_volume_lo: float = 1.3  # log10 sub-stream requests where it starts (~20) ...
    stream_volume_span: float = 0.8  # ... and how far above that it is full (~125)
    # what a distiller buys is long answers (reasoning traces, data sets); one-word labels from
    # a classification job that happens to read like grading are worth little to it
    stream_tokens_lo: float = 100.0  # mean completion tokens per sub-stream request: 0 ...
    stream_tokens_hi: float = 300.0  # ... 1
    # a campaign member inherits the campaign's tier only at this share of the campaign's
    # requests per member per active day (see DistillGuardDetector._inherits)
    member_rate_share: float = 0.4
    # a two-account campaign: the one link each member has must be at least this strong
    pair_link_min: float = 0.6
    # a fresh member of a LIKELY/CONFIRMED campaign (engine._fresh_member)
    fresh_min_requests: int = 3
    fresh_link_min: float = 0.8  # its strongest content/payment-backed link
    fresh_link_strong: float = 0.5  # the content/payment part of that link
    fresh_link_infra: float = 0.3  # its infrastructure/signup part (or a signup within a day)
    fresh_intent_share: float = 0.8
    member_intensity: float = 0.65  # own intensity (~12 requests per active day) to inherit
    narrow: float = -8.0  # a fixed workload (an eval suite re-run, one job) is not a harvest
    infra_discount: float = 0.25  # infrastructure-only links count this much as content links
    min_requests: int = 3  # below this a subject is never above WATCH
    tiers: dict[str, float] = field(
        default_factory=lambda: {"WATCH": 0.3, "SUSPECT": 0.6, "LIKELY": 0.8, "CONFIRMED": 0.95}
    )

    def tier_of(self, risk: float, n: int) -> Tier:
        tier = Tier.NORMAL
        for name in ("WATCH", "SUSPECT", "LIKELY", "CONFIRMED"):
            if risk >= self.tiers[name]:
                tier = Tier[name]
        if n < self.min_requests and tier > Tier.WATCH:
            tier = Tier.WATCH
        return tier


def narrowness(g: GroupStats) -> float:
    """1 when the distinct prompt shapes grow far slower than requests (distinct ~ n^0.3: the
    same benchmark run again and again), 0 from distinct ~ n^0.6 up (a harvest covers ground)."""
    return _narrow(g.n, g.skeleton_distinct)


def narrow_of(n: int, distinct: float) -> float:
    """Narrowness of `n` requests with `distinct` prompt shapes (see `narrowness`)."""
    return _narrow(n, distinct)


def _narrow(n: int, distinct: float) -> float:
    if n < 50 or distinct <= 0:
        return 0.0
    exponent = math.log10(max(1.0, distinct)) / math.log10(n)
    return min(1.0, max(0.0, (0.6 - exponent) / 0.3))


def member_night(hours: list[int], n: int) -> float:
    """One account's round-the-clock score: ~1 when a third of its traffic falls in its
    quietest 8 hours; shrunk towards 0 while it has too few requests to show a daily shape.
    Judged per account: a crowd of people in many time zones is round the clock together."""
    return min(1.0, 3.0 * night_share(hours)) * min(1.0, n / 48.0)


def night_share(hours: list[int]) -> float:
    """Share of traffic in the quietest 8 consecutive hours (circular)."""
    total = sum(hours)
    if total == 0:
        return 0.0
    window = sum(hours[:8])
    best = window
    for start in range(1, 24):
        window += hours[(start + 7) % 24] - hours[start - 1]
        best = min(best, window)
    return best / total


def features(g: GroupStats, coord_content: float = 0.0, coord_infra: float = 0.0) -> dict[str, float]:
    n = max(1, g.n)
    extraction = min(g.share(g.n_logprobs), g.share(g.n_logit_bias))
    regular = 1.0 - min(1.0, g.gap_cv_sum / g.gap_cv_n) if g.gap_cv_n else 0.0
    night = g.night_sum / n
    per_day = g.n / g.active_days if g.active_days else 0.0
    return {
        "intent_share": min(1.0, g.share(g.n_intent) / 0.6),
        "single_turn": g.share(g.n_single_turn),
        "no_system": 1.0 - g.share(g.n_system),
        "night": night,
        "young": g.young / g.with_signup if g.with_signup else 0.0,
        "regularity": regular,
        "intensity": min(1.0, math.log10(1.0 + per_day) / math.log10(51.0)),
        "templated": max(0.0, 1.0 - g.skeleton_distinct / n) if g.n >= 5 else 0.0,
        "extraction": extraction,
        "one_token": g.share(g.n_one_token),
        # a community of labs re-running the same public benchmark shares its items (so it is
        # linked) yet each member runs a fixed workload: judge narrowness per member as well
        "narrow": max(narrowness(g), g.narrow_sum / n),
        "volume": math.log10(1 + g.n),
        "members": math.log2(max(1, g.active_members)),
        "coord_content": coord_content,
        "coord_infra": coord_infra,
        "stream_share": (
            g.stream_output_tokens / g.output_tokens if g.output_tokens else g.share(g.stream_n)
        ),
        "stream_volume": math.log10(1 + g.stream_n),
        "stream_intensity": (
            min(1.0, math.log10(1.0 + g.stream_n / g.active_days) / math.log10(51.0))
            if g.active_days
            else 0.0
        ),
        "stream_narrow": _narrow(g.stream_n, g.stream_distinct),
        "stream_tokens": g.stream_output_tokens / g.stream_n if g.stream_n else 0.0,
    }


def logit_terms(x: dict[str, float], cfg: ScoringConfig) -> dict[str, float]:
    """The additive terms of the logit, keyed by the evidence they stand for."""
    sw = cfg.style_weights
    style = sum(w * x.get(k, 0.0) for k, w in sw.items()) / (sum(sw.values()) or 1.0)
    campaign = 1.0 - (1.0 - x["coord_content"]) * (1.0 - cfg.infra_discount * x["coord_infra"])
    terms: dict[str, float] = {}
    # style is split over its components so reasons can name them
    for k, w in sw.items():
        terms[k] = cfg.style * w * x.get(k, 0.0) / (sum(sw.values()) or 1.0)
    terms["volume"] = cfg.volume * x["volume"] + cfg.intent_x_bulk * x["intent_share"] * max(
        0.0, x["volume"] - 3.0
    )
    # many accounts tied by shared content is itself rare among legitimate customers; squared so
    # the loose homework overlap of a campus (~0.2) counts far less than a campaign's (~0.6)
    # ...and it counts only with sustained volume per account: a class sharing its homework
    # asks a few questions a day each; a harvest (even low and slow) needs tens
    gate = min(1.0, max(0.0, (x["intensity"] - cfg.coordination_intensity_floor) / 0.4))
    # ...and a community of fixed workloads (labs re-running one public benchmark share its
    # items, so they link) is not made a campaign by that overlap
    fixed = x["narrow"] * (1.0 - x["extraction"])
    terms["coordination"] = (
        gate
        * (1.0 - fixed)
        * (
            cfg.members_x_coordination * x["members"] * x["coord_content"] ** 2
            + cfg.style_x_coordination * style * campaign
        )
    )
    # judged per account only: a community's combined traffic is scored by the terms above
    share_gate = _ramp(x["stream_share"], cfg.stream_share_lo, cfg.stream_share_hi)
    volume_hi = cfg.stream_volume_lo + cfg.stream_volume_span
    volume_gate = _ramp(x["stream_volume"], cfg.stream_volume_lo, volume_hi)
    tokens_gate = _ramp(x["stream_tokens"], cfg.stream_tokens_lo, cfg.stream_tokens_hi)
    terms["harvest_stream"] = (
        cfg.harvest_stream
        * (x["members"] == 0.0)
        * share_gate
        * volume_gate
        * tokens_gate
        * x["stream_intensity"]
        * (1.0 - x["stream_narrow"])
    )
    terms["narrow"] = cfg.narrow * x["narrow"] * (1.0 - x["extraction"])
    terms["extraction"] = (
        cfg.extraction * x["extraction"]
        + cfg.extraction_x_templated * x["extraction"] * x["templated"]
        + cfg.extraction_probe * min(x["extraction"], x["one_token"])
    )
    return terms


def _ramp(value: float, lo: float, hi: float) -> float:
    """0 below lo, 1 above hi, linear between."""
    return min(1.0, max(0.0, (value - lo) / (hi - lo)))


def risk_of(terms: dict[str, float], cfg: ScoringConfig) -> float:
    z = cfg.bias + sum(terms.values())
    return 1.0 / (1.0 + math.exp(-z))


def _evidence(g: GroupStats, code: str, limit: int = 3) -> list[str]:
    out: list[str] = []
    for m in g.members:
        out.extend(m.evidence.get(code, ())[: limit - len(out)])
        if len(out) >= limit:
            break
    return out


def reasons_for(
    g: GroupStats,
    x: dict[str, float],
    terms: dict[str, float],
    link_details: list[Reason],
    limit: int = 5,
) -> list[Reason]:
    """Turn the largest positive logit terms into human sentences with numbers."""
    total = sum(t for t in terms.values() if t > 0) or 1.0
    per_feature = {name: t for name, t in terms.items() if t > 0 and not name.startswith("_")}
    links: list[Reason] = []
    behaviour: list[Reason] = []
    for name, t in sorted(per_feature.items(), key=lambda kv: -kv[1]):
        if name == "coordination":
            for r in link_details:
                r.weight = round(t / total / max(1, len(link_details)), 3)
            links = link_details[:2]
            continue
        reason = _describe(name, g, x, round(t / total, 3))
        if reason is not None:
            behaviour.append(reason)
    # an analyst needs both halves: how they are linked, and what the traffic looks like
    out = links + behaviour[: limit - len(links)]
    return sorted(out, key=lambda r: -r.weight)


def _describe(name: str, g: GroupStats, x: dict[str, float], weight: float) -> Reason | None:
    n = g.n
    who = f"{g.active_members} linked accounts" if len(g.members) > 1 else "the account"
    if name == "intent_share":
        parts = []
        if g.n_cot:
            parts.append(f"{g.n_cot} ask for step-by-step reasoning")
        if g.n_rubric:
            parts.append(f"{g.n_rubric} ask the model to grade")
        if g.n_datagen:
            parts.append(f"{g.n_datagen} ask for training data")
        code = max(("cot", g.n_cot), ("rubric", g.n_rubric), ("datagen", g.n_datagen), key=lambda c: c[1])[0]
        return Reason(
            code=f"{code}_share",
            weight=weight,
            detail=f"Of {n} requests from {who}, " + ", ".join(parts) + f" ({g.share(g.n_intent):.0%}).",
            evidence=_evidence(g, code),
        )
    if name == "single_turn":
        return Reason(
            code="single_turn",
            weight=weight,
            detail=f"{g.share(g.n_single_turn):.0%} of {n} requests are one-shot prompts, no conversation.",
        )
    if name == "no_system":
        return Reason(
            code="no_system_prompt",
            weight=weight,
            detail=f"{1 - g.share(g.n_system):.0%} of requests carry no system prompt (no product around).",
        )
    if name == "night":
        return Reason(
            code="round_the_clock",
            weight=weight,
            detail=f"About {x['night'] / 3:.0%} of traffic per account falls in its quietest 8 hours.",
        )
    if name == "young":
        return Reason(
            code="fresh_accounts",
            weight=weight,
            detail=f"{g.young} of {g.with_signup} accounts started sending within a day of signup.",
        )
    if name == "templated":
        return Reason(
            code="skeleton_reuse",
            weight=weight,
            detail=f"{n} requests use only about {g.skeleton_distinct:.0f} prompt templates.",
            evidence=_evidence(g, "skeleton"),
        )
    if name == "extraction":
        return Reason(
            code="logprob_extraction",
            weight=weight,
            detail=(
                f"{g.n_logit_bias} of {n} requests set logit_bias and {g.n_logprobs} ask for logprobs"
                f", {g.n_one_token} with max_tokens <= 1 (logit extraction pattern)."
            ),
            evidence=_evidence(g, "logit_bias"),
        )
    if name == "harvest_stream":
        return Reason(
            code="harvest_stream",
            weight=weight,
            detail=(
                f"{g.stream_n} of {n} requests from {who} are one-shot reasoning, grading or"
                f" data-generation prompts ({g.stream_distinct:.0f} prompt shapes, about"
                f" {g.stream_n / (g.active_days or 1.0):.0f} per account per active day) and take"
                f" {x['stream_share']:.0%} of the completion tokens."
            ),
            evidence=_evidence(g, "cot") or _evidence(g, "rubric") or _evidence(g, "datagen"),
        )
    if name == "volume":
        return Reason(
            code="volume",
            weight=weight,
            detail=f"{n} requests and {g.output_tokens} completion tokens served to {who}.",
        )
    if name == "intensity":
        days = g.active_days or 1.0
        return Reason(
            code="sustained_rate",
            weight=weight,
            detail=f"{g.n / days:.0f} requests per account per active day over {days:.0f} account-days.",
        )
    if name == "regularity":
        return Reason(
            code="regular_timing",
            weight=weight,
            detail=f"Requests arrive like clockwork (gap regularity {x['regularity']:.2f}).",
        )
    return None
