"""Distillation campaigns with knobs.

Most strategies are one engine (`harvest_campaign`) with different defaults: a single
bulk account, a hydra of load-balanced accounts with bans and replacements, a low-and-slow
swarm under any per-account limit, logprob extraction, a model-release pivot, a
persona-rotating agentic harvest. A reseller blending harvest into its customers' traffic
is its own generator (`reseller_blend`) because only part of its traffic is harvest.
"""

from __future__ import annotations

from typing import Literal

import msgspec
import numpy as np

from distillguard.sim import world as W
from distillguard.sim.batch import API_CHAT, API_COMPLETIONS, API_MESSAGES, Batch
from distillguard.sim.context import SimContext
from distillguard.sim.personas import errors, lognormal_tokens, roles_column
from distillguard.sim.scenario import PopulationEntry
from distillguard.sim.text import pools

DAY = 86400.0
POOL_CAP = 40000  # unique prompts per style per campaign; beyond this prompts repeat

# style -> (median completion tokens, sigma, max)
STYLE_TOKENS = {
    "cot": (1400, 0.6, 8000),
    "rubric": (260, 0.5, 1200),
    "agentic": (350, 0.7, 4000),
    "censorship": (450, 0.5, 2000),
    "coding": (900, 0.6, 6000),
    "datagen": (1600, 0.5, 8000),
    "logprob": (1, 0.0, 1),
}


class CampaignKnobs(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # volume and accounts
    accounts: int = 1  # accounts active at any moment (slots)
    requests_per_day: float | None = 20000.0  # whole campaign, load-balanced across active accounts
    per_account_per_day: float | None = None  # overrides requests_per_day: accounts * this
    start_day: float = 0.0
    end_day: float | None = None
    # bans and replacements
    account_lifetime_days: float | None = None  # mean lifetime before a ban; null = never banned
    replacement_delay_h: float = 2.0  # gap before a replacement account takes over the slot
    replacements: Literal["fresh", "aged"] = (
        "fresh"  # fresh signups during the run, or pre-aged bought accounts
    )
    # timing
    timing: Literal["flat", "diurnal", "synchronized"] = "flat"
    profile: str = "human"
    tz_hours: float = 8.0
    sync_period_s: float = 120.0
    sync_jitter_s: float = 3.0
    # infrastructure and account metadata
    ips: Literal["rotating", "sticky", "datacenter"] = "datacenter"
    proxy_pool: int = 400
    ua: Literal["same", "rotate"] = "same"
    payment: Literal["shared", "distinct"] = "distinct"
    payment_pool: int = 3
    email: Literal["disposable", "webmail", "custom"] = "webmail"
    signup: Literal["burst", "spread"] = "spread"
    signup_window_h: float = 6.0
    countries: list[str] | None = None
    verified_share: float = 0.1
    org: Literal["per_account", "shared"] = "per_account"
    # content
    styles: dict[str, float] = msgspec.field(default_factory=lambda: {"cot": 1.0})
    languages: list[str] = msgspec.field(default_factory=lambda: ["en"])
    paraphrase: bool = True
    wrap_real: float = 0.0  # share of prompts that wrap sampled real user questions
    system_prompts: Literal["none", "fixed", "rotate"] = "fixed"
    fake_history_share: float = 0.0  # requests padded with invented earlier turns
    # request shape
    model: str | None = None  # default: the first model of the scenario
    pivot_to: str | None = None  # move to this model once it is released
    pivot_delay_h: float = 8.0
    anthropic_share: float = 0.0
    temperature: float | None = 0.7  # null: not sent (the API default), like most chat users
    max_tokens: int | None = 8192  # null: not sent
    thinking_budget: int | None = None
    reasoning_effort: str | None = None
    stream_share: float = 0.0
    logprob_extraction: bool = False
    top_logprobs: int = 20
    error_rate: float = 0.01


class BulkHarvestKnobs(CampaignKnobs):
    accounts: int = 1
    requests_per_day: float | None = 25000.0


class HydraKnobs(CampaignKnobs):
    accounts: int = 60
    requests_per_day: float | None = 60000.0
    account_lifetime_days: float | None = 2.5
    ips: Literal["rotating", "sticky", "datacenter"] = "rotating"
    payment: Literal["shared", "distinct"] = "shared"
    email: Literal["disposable", "webmail", "custom"] = "disposable"
    signup: Literal["burst", "spread"] = "burst"
    timing: Literal["flat", "diurnal", "synchronized"] = "flat"


class LowAndSlowKnobs(CampaignKnobs):
    accounts: int = 300
    requests_per_day: float | None = None
    per_account_per_day: float | None = 35.0
    timing: Literal["flat", "diurnal", "synchronized"] = "diurnal"
    ips: Literal["rotating", "sticky", "datacenter"] = "sticky"
    ua: Literal["same", "rotate"] = "rotate"
    paraphrase: bool = True
    wrap_real: float = 0.5
    languages: list[str] = msgspec.field(default_factory=lambda: ["en", "zh", "es", "ru", "de"])
    system_prompts: Literal["none", "fixed", "rotate"] = "rotate"
    signup: Literal["burst", "spread"] = "spread"
    stream_share: float = 0.7
    fake_history_share: float = 0.3
    temperature: float | None = None  # leave sampling at its defaults, like chat users
    max_tokens: int | None = None


class LogprobExtractionKnobs(CampaignKnobs):
    accounts: int = 4
    requests_per_day: float | None = 30000.0
    logprob_extraction: bool = True
    styles: dict[str, float] = msgspec.field(default_factory=lambda: {"logprob": 1.0})
    paraphrase: bool = False
    temperature: float | None = 0.0
    max_tokens: int = 1
    system_prompts: Literal["none", "fixed", "rotate"] = "none"


class ModelPivotKnobs(HydraKnobs):
    accounts: int = 30
    requests_per_day: float | None = 30000.0
    pivot_to: str | None = "atlas-large-2"


class AgenticHarvestKnobs(CampaignKnobs):
    accounts: int = 80
    requests_per_day: float | None = None
    per_account_per_day: float | None = 120.0
    styles: dict[str, float] = msgspec.field(default_factory=lambda: {"agentic": 0.7, "coding": 0.3})
    system_prompts: Literal["none", "fixed", "rotate"] = "rotate"
    ips: Literal["rotating", "sticky", "datacenter"] = "sticky"
    ua: Literal["same", "rotate"] = "rotate"
    timing: Literal["flat", "diurnal", "synchronized"] = "diurnal"
    profile: str = "work"
    anthropic_share: float = 0.6
    stream_share: float = 1.0


# ---------------------------------------------------------------------------------------------------


def _account_chains(
    rng: np.random.Generator, k: CampaignKnobs, t0: float, t1: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(slot, active_from, active_to, is_replacement) per account; a ban ends an account, a
    replacement takes over its slot after `replacement_delay_h`."""
    slots, froms, tos, repl = [], [], [], []
    for s in range(k.accounts):
        t = t0 + rng.uniform(0, min(k.signup_window_h * 3600, (t1 - t0) / 4))
        first = True
        while t < t1:
            life = (
                np.inf
                if k.account_lifetime_days is None
                else max(3600.0, rng.exponential(k.account_lifetime_days * DAY))
            )
            end = min(t1, t + life)
            slots.append(s)
            froms.append(t)
            tos.append(end)
            repl.append(not first)
            first = False
            t = end + rng.uniform(0.1, 1.0) * k.replacement_delay_h * 3600
    return np.array(slots), np.array(froms), np.array(tos), np.array(repl, dtype=bool)


def _slot_times(
    rng: np.random.Generator, ctx: SimContext, k: CampaignKnobs, rate_per_day: float, t0: float, t1: float
) -> tuple[np.ndarray, np.ndarray]:
    """Request times per slot (before mapping to accounts): (times, slot)."""
    days = (t1 - t0) / DAY
    if k.timing == "synchronized":
        ticks = np.arange(t0, t1, k.sync_period_s)
        p = min(1.0, rate_per_day * k.sync_period_s / DAY)
        fire = rng.random((k.accounts, len(ticks))) < p
        slot, tick = np.nonzero(fire)
        times = ticks[tick] + rng.normal(0, k.sync_jitter_s, size=len(tick))
        return times, slot
    counts = rng.poisson(rate_per_day * days, size=k.accounts)
    slot = np.repeat(np.arange(k.accounts), counts)
    if k.timing == "diurnal":
        tz = k.tz_hours + rng.normal(0, 0.5, size=k.accounts)
        times = t0 + (
            W.diurnal_times(rng, len(slot), ctx.start, ctx.days, tz[slot], k.profile) - ctx.start
        ) % (t1 - t0)
    else:
        times = t0 + rng.random(len(slot)) * (t1 - t0)
    return times, slot


def harvest_campaign(ctx: SimContext, entry: PopulationEntry, k: CampaignKnobs) -> list[Batch]:
    world = ctx.world
    rng = world.rng(entry.name, "campaign")
    prng = world.pyrandom(entry.name, "campaign")
    camp = world.new_campaign(entry.name, entry.kind, msgspec.structs.asdict(k))
    campaign_id = world.campaign_id(camp)
    t0 = ctx.start + k.start_day * DAY
    t1 = ctx.end if k.end_day is None else min(ctx.end, ctx.start + k.end_day * DAY)
    if t1 <= t0:
        return []
    rate = (
        k.per_account_per_day if k.per_account_per_day is not None else (k.requests_per_day or 0) / k.accounts
    )

    # --- accounts ----------------------------------------------------------------------------------
    slot_of, a_from, a_to, a_repl = _account_chains(rng, k, t0, t1)
    n_acc = len(slot_of)
    countries = W.pick_countries(rng, n_acc, k.countries)
    proxies = [W.ip_in_country(prng, c) for c in W.pick_countries(rng, k.proxy_pool, k.countries)]
    dc_ips = [W.datacenter_ip(prng) for _ in range(max(1, k.accounts // 10 + 1))]
    cards = [W.payment_fingerprint(world.seed, entry.name, "pool", j) for j in range(max(1, k.payment_pool))]
    custom_domains = [
        f"{prng.choice(W.WORDS)}{prng.choice(W.WORDS)}.{prng.choice(['com', 'net', 'io', 'xyz'])}"
        for _ in range(3)
    ]
    campaign_ua = prng.choice(W.SDK_UAS[:6])
    shared_org = ""
    if k.org == "shared":
        shared_org = world.new_org(entry.name, 0, name=W.org_name(prng), created_at=t0 - 30 * DAY)
    acct_idx = np.empty(n_acc, dtype=np.int32)
    sticky_ip, acct_ua = [], []
    for i in range(n_acc):
        if (a_repl[i] and k.replacements == "fresh") or (not a_repl[i] and k.signup == "burst"):
            created = a_from[i] - rng.uniform(0.05, 1.0) * k.signup_window_h * 3600
        else:
            created = t0 - rng.uniform(20, 400) * DAY
        acct_ip = (
            W.ip_in_country(prng, countries[i])
            if k.ips == "sticky"
            else (prng.choice(proxies) if k.ips == "rotating" else prng.choice(dc_ips))
        )
        sticky_ip.append(acct_ip)
        acct_ua.append(campaign_ua if k.ua == "same" else prng.choice(W.SDK_UAS + W.APP_UAS[:3]))
        org = shared_org or world.new_org(entry.name, i, name="Personal", created_at=float(created))
        email = {
            "disposable": lambda: prng.choice(W.DISPOSABLE),
            "webmail": lambda: prng.choice(W.WEBMAIL),
            "custom": lambda: prng.choice(custom_domains),
        }[k.email]()
        acct_idx[i] = world.new_account(
            entry.name,
            i,
            persona=entry.kind,
            campaign_id=campaign_id,
            org_id=org,
            created_at=float(created),
            country=countries[i],
            payment_fingerprint=prng.choice(cards)
            if k.payment == "shared"
            else W.payment_fingerprint(world.seed, entry.name, "acct", i),
            email_domain=email,
            verified=prng.random() < k.verified_share,
            signup_ip=acct_ip,
            metadata={"plan": prng.choice(["free", "pay-as-you-go"])},
        )

    # --- request times, mapped to whichever account holds the slot ----------------------------------
    times, slot = _slot_times(rng, ctx, k, rate, t0, t1)
    order = np.lexsort((a_from, slot_of))  # accounts sorted by (slot, from)
    key_acc = slot_of[order] * 1e12 + (a_from[order] - t0)
    pos = np.searchsorted(key_acc, slot * 1e12 + (times - t0), side="right") - 1
    valid = pos >= 0
    acc_local = order[np.clip(pos, 0, None)]
    valid &= (slot_of[acc_local] == slot) & (times < a_to[acc_local]) & (times >= t0) & (times < t1)
    times, acc_local = times[valid], acc_local[valid]
    n = len(times)
    if n == 0:
        return []

    # --- content -------------------------------------------------------------------------------------
    style_names = list(k.styles)
    w = np.array([k.styles[s] for s in style_names], dtype=float)
    style = rng.choice(len(style_names), size=n, p=w / w.sum())
    prompt = np.empty(n, dtype=np.int32)
    completion = np.empty(n, dtype=np.int32)
    for j, name in enumerate(style_names):
        sel = np.nonzero(style == j)[0]
        if not len(sel):
            continue
        size = int(min(len(sel), POOL_CAP))
        pool = pools.attack_pool(
            name,
            k.languages,
            size,
            int(rng.integers(2**31)),
            paraphrase=k.paraphrase,
            wrap_real=k.wrap_real,
            real_questions=ctx.real.short_texts if k.wrap_real else (),
        )
        idx = ctx.strings.extend(pool)
        prompt[sel] = (
            idx[rng.permutation(len(sel)) % size]
            if len(sel) <= size
            else idx[rng.integers(0, size, size=len(sel))]
        )
        med, sigma, hi = STYLE_TOKENS.get(name, (800, 0.6, 8000))
        completion[sel] = lognormal_tokens(rng, len(sel), med, sigma, 1, min(hi, k.max_tokens or hi))
    agentic = np.isin(style, [j for j, s in enumerate(style_names) if s == "agentic"])
    tool_steps = np.where(agentic, rng.integers(0, 7, size=n), 0)
    history = np.where(rng.random(n) < k.fake_history_share, rng.integers(1, 3, size=n), 0)
    if k.system_prompts == "none":
        system = np.full(n, -1, dtype=np.int32)
    elif k.system_prompts == "fixed":
        system = np.full(
            n,
            ctx.strings.intern(pools.system_personas(k.languages, 1, int(rng.integers(2**31)))[0]),
            dtype=np.int32,
        )
    else:
        sp = ctx.strings.extend(pools.system_personas(k.languages, 300, int(rng.integers(2**31))))
        system = sp[rng.integers(0, len(sp), size=n)]
    roles, n_msgs = roles_column(ctx, system >= 0, history + 1, tool_steps)
    prompt_len = np.array([len(ctx.strings.values[i]) for i in prompt.tolist()], dtype=np.int64)
    context = (
        prompt_len + history * rng.integers(200, 1500, size=n) + tool_steps * rng.integers(500, 4000, size=n)
    )

    # --- infrastructure per request -------------------------------------------------------------------
    if k.ips == "rotating":
        proxy_idx = ctx.strings.intern_many(proxies)
        ip = proxy_idx[rng.integers(0, len(proxy_idx), size=n)]
    else:
        ip = ctx.strings.intern_many(sticky_ip)[acc_local]
    ua = ctx.strings.intern_many(acct_ua)[acc_local]
    anthropic = (rng.random(n_acc) < k.anthropic_share)[acc_local]
    api = np.where(anthropic, API_MESSAGES, API_CHAT)
    if k.logprob_extraction:
        api = np.where(rng.random(n) < 0.5, API_COMPLETIONS, API_CHAT)
        anthropic = np.zeros(n, dtype=bool)

    # --- model (and pivot) -----------------------------------------------------------------------------
    target = k.model or ctx.scenario.models[0].name
    model = np.full(n, ctx.strings.intern(target), dtype=np.int32)
    if k.pivot_to:
        releases = {m.name: ctx.start + m.release_day * DAY for m in ctx.scenario.models}
        if k.pivot_to not in releases:
            raise ValueError(f"{entry.name}: pivot_to model {k.pivot_to!r} is not in the scenario's models")
        switch = releases[k.pivot_to] + rng.uniform(0.2, 1.0) * k.pivot_delay_h * 3600
        moved = (times >= switch) & (rng.random(n) < 0.97)
        model = np.where(moved, ctx.strings.intern(k.pivot_to), model)

    reasoning = np.zeros(n, dtype=np.int32)
    thinking = np.full(n, -1, dtype=np.int32)
    if k.thinking_budget:
        thinking = np.where(anthropic, k.thinking_budget, -1)
        reasoning = np.where(
            anthropic, lognormal_tokens(rng, n, k.thinking_budget * 0.6, 0.4, 50, k.thinking_budget), 0
        )
    effort = -1 if k.reasoning_effort is None else ctx.strings.intern(k.reasoning_effort)
    if k.reasoning_effort is not None:
        reasoning = np.where(~anthropic, lognormal_tokens(rng, n, 1500, 0.5, 50, 16000), reasoning)

    return [
        Batch(
            n,
            ts=times,
            account=acct_idx[acc_local],
            ip=ip,
            ua=ua,
            api=api,
            model=model,
            stream=rng.random(n) < k.stream_share,
            temperature=np.nan if k.temperature is None else k.temperature,
            # Anthropic's API requires max_tokens; OpenAI callers may leave it out.
            max_tokens=np.where(anthropic, 4096, -1) if k.max_tokens is None else k.max_tokens,
            logprobs=k.logprob_extraction,
            # The legacy completions API takes `logprobs` as an int of at most 5.
            top_logprobs=np.where(api == API_COMPLETIONS, min(k.top_logprobs, 5), k.top_logprobs)
            if k.logprob_extraction
            else -1,
            logit_bias=k.logprob_extraction,
            n_tools=np.where(agentic, rng.integers(3, 14, size=n), 0),
            thinking_budget=thinking,
            reasoning_effort=np.where(anthropic, -1, effort),
            n_messages=n_msgs,
            n_user_turns=history + 1,
            roles=roles,
            system=system,
            has_tool_results=tool_steps > 0,
            prompt=prompt,
            context_chars=context,
            completion_tokens=completion,
            reasoning_tokens=reasoning,
            status=errors(rng, n, k.error_rate),
            campaign=camp,
        )
    ]


# ---- reseller blending harvest into customer traffic ------------------------------------------------


class ResellerBlendKnobs(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    keys: int = 3  # accounts (API keys) of the reseller org
    customer_requests_per_day: float = 15000.0  # legitimate resold traffic, all keys together
    customers: int = 40  # distinct customer apps (each its own system prompt)
    harvest_share: float = 0.25  # share of the reseller's requests that are harvest
    harvest_timing: Literal["flat", "mimic"] = "mimic"  # mimic: same diurnal curve as customers
    styles: dict[str, float] = msgspec.field(
        default_factory=lambda: {"cot": 0.5, "coding": 0.3, "rubric": 0.2}
    )
    languages: list[str] = msgspec.field(default_factory=lambda: ["en", "zh"])
    paraphrase: bool = True
    wrap_real: float = 0.4
    server_ips: int = 3
    countries: list[str] | None = None
    error_rate: float = 0.006


def reseller_blend(ctx: SimContext, entry: PopulationEntry, k: ResellerBlendKnobs) -> list[Batch]:
    """A reseller org whose keys carry real customer traffic plus a harvest share (per-request truth)."""
    world = ctx.world
    rng = world.rng(entry.name, "campaign")
    prng = world.pyrandom(entry.name, "campaign")
    camp = world.new_campaign(entry.name, entry.kind, msgspec.structs.asdict(k))
    campaign_id = world.campaign_id(camp)
    country = W.pick_countries(rng, 1, k.countries or ["SG", "US"])[0]
    created = ctx.start - rng.uniform(60, 300) * DAY
    org = world.new_org(entry.name, 0, name=W.org_name(prng), created_at=created, verified=True)
    servers = [W.datacenter_ip(prng) for _ in range(k.server_ips)]
    card = W.payment_fingerprint(world.seed, entry.name, "org")
    domain = W.org_name(prng).lower().replace(" ", "") + ".com"
    accts = np.array(
        [
            world.new_account(
                entry.name,
                i,
                persona="reseller",
                campaign_id=campaign_id,
                org_id=org,
                created_at=created + i * DAY,
                country=country,
                payment_fingerprint=card,
                email_domain=domain,
                verified=True,
                signup_ip=servers[0],
                metadata={"plan": "enterprise"},
            )
            for i in range(k.keys)
        ],
        dtype=np.int32,
    )
    ua = ctx.strings.intern(prng.choice(W.SDK_UAS[:4]))
    ips = ctx.strings.intern_many(servers)
    real = ctx.real

    # Customer traffic: diverse real conversations, one system prompt per customer app.
    n_legit = int(rng.poisson(k.customer_requests_per_day * ctx.days))
    tz = rng.choice([-5.0, 0.0, 1.0, 8.0, 9.0], size=n_legit)
    ts = W.diurnal_times(rng, n_legit, ctx.start, ctx.days, tz, "human")
    customer = rng.zipf(1.5, size=n_legit) % k.customers
    conv = rng.integers(0, len(real.conv_first), size=n_legit)
    turn = np.minimum(rng.integers(0, 4, size=n_legit), real.conv_turns[conv] - 1)
    sys_pool = ctx.strings.extend(pools.system_personas(["en"], k.customers, int(rng.integers(2**31))))
    roles, n_msgs = roles_column(ctx, True, turn + 1)
    legit = Batch(
        n_legit,
        ts=ts,
        account=accts[customer % k.keys],
        ip=ips[rng.integers(0, len(ips), size=n_legit)],
        ua=ua,
        model=ctx.legit_models(rng, customer, ts, k.customers, adopt_days=5.0),
        stream=rng.random(n_legit) < 0.8,
        temperature=0.7,
        max_tokens=2048,
        n_messages=n_msgs,
        n_user_turns=turn + 1,
        roles=roles,
        system=sys_pool[customer],
        prompt=real.all_idx[real.conv_first[conv] + turn],
        context_chars=real.all_len[real.conv_first[conv] + turn] + turn * 1000,
        completion_tokens=lognormal_tokens(rng, n_legit, 350, 0.7, 5, 2048),
        status=errors(rng, n_legit, k.error_rate),
    )

    # Harvest traffic through the same keys, IPs and user agent.
    n_h = int(rng.poisson(n_legit * k.harvest_share / max(1e-9, 1 - k.harvest_share)))
    if k.harvest_timing == "mimic":
        hts = W.diurnal_times(rng, n_h, ctx.start, ctx.days, rng.choice([-5.0, 0.0, 1.0, 8.0, 9.0], size=n_h))
    else:
        hts = ctx.start + rng.random(n_h) * (ctx.end - ctx.start)
    names = list(k.styles)
    w = np.array([k.styles[s] for s in names], dtype=float)
    style = rng.choice(len(names), size=n_h, p=w / w.sum())
    prompt = np.empty(n_h, dtype=np.int32)
    completion = np.empty(n_h, dtype=np.int32)
    for j, name in enumerate(names):
        sel = np.nonzero(style == j)[0]
        if not len(sel):
            continue
        size = int(min(len(sel), POOL_CAP))
        pool = pools.attack_pool(
            name,
            k.languages,
            size,
            int(rng.integers(2**31)),
            paraphrase=k.paraphrase,
            wrap_real=k.wrap_real,
            real_questions=real.short_texts,
        )
        prompt[sel] = ctx.strings.extend(pool)[rng.integers(0, size, size=len(sel))]
        med, sigma, hi = STYLE_TOKENS.get(name, (800, 0.6, 8000))
        completion[sel] = lognormal_tokens(rng, len(sel), med, sigma, 1, hi)
    h_customer = rng.integers(0, k.customers, size=n_h)  # harvest hides behind customer system prompts
    harvest = Batch(
        n_h,
        ts=hts,
        account=accts[rng.integers(0, k.keys, size=n_h)],
        ip=ips[rng.integers(0, len(ips), size=n_h)],
        ua=ua,
        model=ctx.legit_models(rng, h_customer, hts, k.customers, adopt_days=5.0),
        stream=rng.random(n_h) < 0.8,
        temperature=0.7,
        max_tokens=8192,
        n_messages=2,
        n_user_turns=1,
        roles=ctx.strings.intern("su"),
        system=sys_pool[h_customer],
        prompt=prompt,
        completion_tokens=completion,
        status=errors(rng, n_h, k.error_rate),
        campaign=camp,
    )
    return [legit, harvest]
