"""Legitimate personas, including the hard negatives a naive detector would flag.

Each persona is a knob struct plus a function that returns columnar `Batch`es for its
whole population. Rates are per account unless a knob says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np

from distillguard.sim import world as W
from distillguard.sim.batch import API_CHAT, API_MESSAGES, Batch
from distillguard.sim.context import SimContext
from distillguard.sim.scenario import PopulationEntry
from distillguard.sim.text import pools

DAY = 86400.0
_roles_cache: dict[tuple[bool, int, int], str] = {}


def roles_for(system: bool, user_turns: int, tool_steps: int = 0) -> str:
    """Compact role sequence: 's' system, 'u' user, 'a' assistant, 't' tool."""
    key = (system, user_turns, tool_steps)
    r = _roles_cache.get(key)
    if r is None:
        r = ("s" if system else "") + "u" + "au" * (user_turns - 1) + "at" * tool_steps
        _roles_cache[key] = r
    return r


def roles_column(
    ctx: SimContext, system: np.ndarray | bool, user_turns: np.ndarray, tool_steps: np.ndarray | int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(roles string index, n_messages) per request."""
    n = len(user_turns)
    sys_arr = np.broadcast_to(np.asarray(system, dtype=bool), (n,))
    tools = np.broadcast_to(np.asarray(tool_steps, dtype=np.int64), (n,))
    key = (sys_arr.astype(np.int64) << 40) | (np.asarray(user_turns, dtype=np.int64) << 20) | tools
    uniq, inv = np.unique(key, return_inverse=True)
    idx = np.empty(len(uniq), dtype=np.int32)
    n_msgs = np.empty(len(uniq), dtype=np.int64)
    for j, k in enumerate(uniq.tolist()):
        r = roles_for(bool(k >> 40), (k >> 20) & 0xFFFFF, k & 0xFFFFF)
        idx[j] = ctx.strings.intern(r)
        n_msgs[j] = len(r)
    return idx[inv], n_msgs[inv]


def errors(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    status = np.full(n, 200, dtype=np.int16)
    bad = rng.random(n) < rate
    status[bad] = rng.choice(
        np.array([429, 500, 400, 529], dtype=np.int16), size=int(bad.sum()), p=[0.6, 0.2, 0.15, 0.05]
    )
    return status


def lognormal_tokens(
    rng: np.random.Generator, n: int, median: float, sigma: float = 0.7, lo: int = 1, hi: int = 16000
) -> np.ndarray:
    return np.clip(rng.lognormal(np.log(median), sigma, size=n), lo, hi).astype(np.int32)


class LegitAccounts(msgspec.Struct):
    index: np.ndarray  # global account index, per local account
    country: list[str]
    tz: np.ndarray
    home_ip: np.ndarray  # string index
    ua: np.ndarray  # string index
    anthropic: np.ndarray  # bool: uses the /v1/messages flavor


def make_legit_accounts(
    ctx: SimContext,
    entry: PopulationEntry,
    persona: str,
    n: int,
    *,
    countries: Sequence[str] | None = None,
    email_domains: Sequence[str] = W.WEBMAIL,
    org_size: int = 1,
    verified_share: float = 0.5,
    uas: Sequence[str] = W.SDK_UAS,
    anthropic_share: float = 0.35,
    home_ips: Sequence[str] | None = None,
    created_days: tuple[float, float] = (20.0, 700.0),
    shared_org_payment: bool = True,
    plan: str = "pay-as-you-go",
    new_share: float = 0.0,
) -> LegitAccounts:
    """Accounts with ordinary, mostly distinct metadata. `org_size` > 1 groups them into companies
    (shared company email domain and card: a legitimate reason for shared metadata)."""
    rng = ctx.world.rng(entry.name, "accounts")
    prng = ctx.world.pyrandom(entry.name, "accounts")
    ctry = W.pick_countries(rng, n, countries)
    created = ctx.start - rng.uniform(created_days[0], created_days[1], size=n) * DAY
    # Some legitimate users sign up during the run (their traffic starts at signup), so
    # "account created recently" is not by itself a campaign signal.
    new = rng.random(n) < new_share
    created[new] = ctx.start + rng.uniform(0, 0.9 * ctx.days, size=int(new.sum())) * DAY
    verified = rng.random(n) < verified_share
    idx = np.empty(n, dtype=np.int32)
    ips: list[str] = []
    org_id = ""
    org_domain = ""
    org_card = ""
    for i in range(n):
        if org_size <= 1 or i % org_size == 0:
            if org_size > 1:
                name = W.org_name(prng)
                org_domain = name.lower().replace(" ", "") + ".com"
                org_card = W.payment_fingerprint(ctx.world.seed, entry.name, "org", i)
            else:
                name = "Personal"
            org_id = ctx.world.new_org(
                entry.name,
                i,
                name=name,
                created_at=float(created[i]),
                verified=bool(verified[i]) and org_size > 1,
            )
        ip = home_ips[i % len(home_ips)] if home_ips else W.ip_in_country(prng, ctry[i])
        ips.append(ip)
        in_company = org_size > 1
        idx[i] = ctx.world.new_account(
            entry.name,
            i,
            persona=persona,
            campaign_id=None,
            org_id=org_id,
            created_at=float(created[i]),
            country=ctry[i],
            payment_fingerprint=org_card
            if in_company and shared_org_payment
            else W.payment_fingerprint(ctx.world.seed, entry.name, i),
            email_domain=org_domain if in_company else prng.choice(list(email_domains)),
            verified=bool(verified[i]),
            signup_ip=ip,
            metadata={"plan": plan},
        )
    tz = np.array([W.COUNTRIES[c][0] for c in ctry])
    return LegitAccounts(
        index=idx,
        country=ctry,
        tz=tz,
        home_ip=ctx.strings.intern_many(ips),
        ua=ctx.strings.intern_many([prng.choice(list(uas)) for _ in range(n)]),
        anthropic=rng.random(n) < anthropic_share,
    )


def _api(acc: LegitAccounts, local: np.ndarray) -> np.ndarray:
    return np.where(acc.anthropic[local], API_MESSAGES, API_CHAT)


def _sessions(
    rng: np.random.Generator, ctx: SimContext, acc: LegitAccounts, per_day: float, sigma: float, profile: str
) -> tuple[np.ndarray, np.ndarray]:
    """Session start times per account: heterogeneous rates (lognormal), diurnal in local time."""
    n = len(acc.index)
    rate = per_day * rng.lognormal(-(sigma**2) / 2, sigma, size=n)
    counts = rng.poisson(rate * ctx.days)
    local = np.repeat(np.arange(n), counts)
    starts = W.diurnal_times(rng, len(local), ctx.start, ctx.days, acc.tz[local], profile)
    return starts, local


class _Knobs(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    countries: list[str] | None = None
    error_rate: float = 0.004
    anthropic_share: float = 0.35
    new_account_share: float = 0.0  # accounts that sign up during the run


# ---- chat users ----------------------------------------------------------------------------


class ChatUserKnobs(_Knobs):
    new_account_share: float = 0.06
    sessions_per_day: float = 1.2
    rate_sigma: float = 1.0  # heterogeneity across users (lognormal sigma)
    max_turns: int = 12
    gap_mean_s: float = 75.0  # think time between turns
    stream_share: float = 0.85
    profile: str = "human"


def chat_user(ctx: SimContext, entry: PopulationEntry, k: ChatUserKnobs) -> list[Batch]:
    """Interactive users replaying real multi-turn ShareGPT conversations, diurnal and bursty."""
    rng = ctx.world.rng(entry.name, "traffic")
    acc = make_legit_accounts(
        ctx,
        entry,
        "chat_user",
        entry.count,
        countries=k.countries,
        uas=W.APP_UAS + W.SDK_UAS[:4],
        anthropic_share=k.anthropic_share,
        new_share=k.new_account_share,
    )
    real = ctx.real
    starts, s_local = _sessions(rng, ctx, acc, k.sessions_per_day, k.rate_sigma, k.profile)
    conv = rng.integers(0, len(real.conv_first), size=len(starts))
    turns = np.minimum(real.conv_turns[conv], k.max_turns)
    ts, sess, turn = W.expand_sessions(rng, starts, turns, k.gap_mean_s, gap_min_s=8.0)
    local = s_local[sess]
    flat = real.conv_first[conv[sess]] + turn
    prompt = real.all_idx[flat]
    # Context: the user turns so far plus assistant replies of ~1.2k chars each.
    user_cum = (
        np.cumsum(real.all_len)[flat]
        - np.cumsum(real.all_len)[real.conv_first[conv[sess]]]
        + real.all_len[real.conv_first[conv[sess]]]
    )
    context = user_cum + turn * rng.integers(400, 2500, size=len(ts))
    has_sys = rng.random(len(acc.index))[local] < 0.3
    sys_pool = ctx.strings.intern_many(
        [
            "You are a helpful assistant.",
            "You are ChatGPT, a large language model.",
            "Answer concisely.",
            "You are a friendly assistant. Use markdown.",
        ]
    )
    system = np.where(has_sys, sys_pool[acc.index[local] % len(sys_pool)], -1)
    roles, n_msgs = roles_column(ctx, has_sys, turn + 1)
    n = len(ts)
    return [
        Batch(
            n,
            ts=ts,
            account=acc.index[local],
            ip=acc.home_ip[local],
            ua=acc.ua[local],
            api=_api(acc, local),
            model=ctx.legit_models(rng, local, ts, len(acc.index)),
            stream=rng.random(n) < k.stream_share,
            temperature=np.where(rng.random(n) < 0.6, np.nan, rng.choice([0.3, 0.7, 1.0], size=n)),
            max_tokens=np.where(acc.anthropic[local], 4096, -1),
            n_messages=n_msgs,
            n_user_turns=turn + 1,
            roles=roles,
            system=system,
            prompt=prompt,
            context_chars=context,
            completion_tokens=lognormal_tokens(rng, n, 350, 0.8, 5, 4000),
            status=errors(rng, n, k.error_rate),
        )
    ]


# ---- coding agents ---------------------------------------------------------------------------


class CodingAgentKnobs(_Knobs):
    new_account_share: float = 0.03
    sessions_per_day: float = 3.0
    steps_mean: float = 14.0  # tool-loop steps per task
    gap_mean_s: float = 9.0
    org_size: int = 6  # developers per company
    thinking_share: float = 0.4
    anthropic_share: float = 0.6


def coding_agent(ctx: SimContext, entry: PopulationEntry, k: CodingAgentKnobs) -> list[Batch]:
    """Developers' coding agents: tool definitions, tool results, long and growing contexts, work hours."""
    rng = ctx.world.rng(entry.name, "traffic")
    acc = make_legit_accounts(
        ctx,
        entry,
        "coding_agent",
        entry.count,
        countries=k.countries,
        uas=W.AGENT_UAS,
        org_size=k.org_size,
        verified_share=0.9,
        anthropic_share=k.anthropic_share,
        plan="team",
        new_share=k.new_account_share,
    )
    real = ctx.real
    starts, s_local = _sessions(rng, ctx, acc, k.sessions_per_day, 0.8, "work")
    steps = 1 + rng.geometric(1.0 / k.steps_mean, size=len(starts))
    steps = np.minimum(steps, 80)
    ts, sess, step = W.expand_sessions(rng, starts, steps, k.gap_mean_s, gap_min_s=1.5)
    local = s_local[sess]
    n = len(ts)
    task = real.coding_idx[rng.integers(0, len(real.coding_idx), size=len(starts))]
    base_ctx = rng.integers(6000, 45000, size=len(starts))  # system prompt, repo map, open files
    per_step = rng.integers(800, 6000, size=len(starts))
    context = np.minimum(base_ctx[sess] + step * per_step[sess], 600_000)
    sys_texts = [
        "You are an autonomous coding agent working in the user's repository. Use the tools to read, "
        "edit and test code.",
        "You are a coding assistant with access to a terminal and file tools.",
        "You are an expert software engineer. Follow the repository conventions.",
    ]
    sys_pool = ctx.strings.intern_many(sys_texts)
    system = sys_pool[acc.index[local] % len(sys_pool)]
    roles, n_msgs = roles_column(ctx, True, np.ones(n, dtype=np.int64), step)
    anth = acc.anthropic[local]
    thinking = anth & (rng.random(len(acc.index))[local] < k.thinking_share)
    n_tools_acc = rng.integers(4, 32, size=len(acc.index))
    return [
        Batch(
            n,
            ts=ts,
            account=acc.index[local],
            ip=acc.home_ip[local],
            ua=acc.ua[local],
            api=_api(acc, local),
            model=ctx.legit_models(rng, local, ts, len(acc.index), adopt_days=4.0),
            stream=True,
            temperature=np.where(anth, np.nan, 0.2),
            max_tokens=np.where(anth, 8192, -1),
            thinking_budget=np.where(thinking, 4096, -1),
            n_tools=n_tools_acc[local],
            has_tool_results=step > 0,
            n_messages=n_msgs,
            n_user_turns=1,
            roles=roles,
            system=system,
            prompt=task[sess],
            context_chars=context,
            completion_tokens=lognormal_tokens(rng, n, 220, 0.9, 5, 8000),
            reasoning_tokens=np.where(thinking, lognormal_tokens(rng, n, 600, 0.8, 10, 4096), 0),
            status=errors(rng, n, k.error_rate),
        )
    ]


# ---- SaaS backend ----------------------------------------------------------------------------


class SaasBackendKnobs(_Knobs):
    requests_per_day: float = 20000.0  # per SaaS account
    end_users: int = 5000  # distinct end users behind the key (diversity of conversations)
    server_ips: int = 4
    history_share: float = 0.5  # requests that carry earlier turns


_SAAS_SYSTEMS = (
    "You are {name}'s support assistant. Answer questions about our product politely "
    "and never discuss pricing.",
    "You are the writing assistant inside {name}. Improve the user's text and keep their voice.",
    "You are {name} Tutor, a patient study helper for high-school and university students.",
    "You are an AI assistant embedded in {name}'s CRM. Help sales reps draft emails and summarize calls.",
    "You are {name} Health's triage chatbot. You do not give diagnoses; suggest seeing a professional.",
)


def saas_backend(ctx: SimContext, entry: PopulationEntry, k: SaasBackendKnobs) -> list[Batch]:
    """One key serving thousands of end users: very high volume, diverse prompts, one system prompt."""
    rng = ctx.world.rng(entry.name, "traffic")
    prng = ctx.world.pyrandom(entry.name, "traffic")
    servers = [W.datacenter_ip(prng) for _ in range(k.server_ips * entry.count)]
    acc = make_legit_accounts(
        ctx,
        entry,
        "saas_backend",
        entry.count,
        countries=k.countries or ["US", "GB", "DE"],
        uas=W.SDK_UAS[:8],
        verified_share=1.0,
        home_ips=servers[:: k.server_ips],
        anthropic_share=k.anthropic_share,
        plan="enterprise",
    )
    for a in acc.index.tolist():
        ctx.world.accounts[a].metadata["company"] = W.org_name(prng)
    real = ctx.real
    batches = []
    for i in range(entry.count):
        n = int(rng.poisson(k.requests_per_day * ctx.days))
        # End users sit in many time zones: the sum of their diurnal curves is flatter.
        tz = rng.choice(
            [-8.0, -5.0, 0.0, 1.0, 5.5, 8.0, 9.0], size=n, p=[0.2, 0.25, 0.15, 0.15, 0.1, 0.1, 0.05]
        )
        ts = W.diurnal_times(rng, n, ctx.start, ctx.days, tz, "human")
        user = rng.zipf(1.3, size=n) % k.end_users
        conv = (user * 7919 + rng.integers(0, 50, size=n)) % len(real.conv_first)
        turn = np.minimum(
            np.where(rng.random(n) < k.history_share, rng.integers(1, 6, size=n), 0),
            real.conv_turns[conv] - 1,
        )
        prompt = real.all_idx[real.conv_first[conv] + turn]
        name = ctx.world.accounts[int(acc.index[i])].metadata["company"].split()[0]
        system = ctx.strings.intern(_SAAS_SYSTEMS[i % len(_SAAS_SYSTEMS)].format(name=name))
        roles, n_msgs = roles_column(ctx, True, turn + 1)
        ips = ctx.strings.intern_many(servers[i * k.server_ips : (i + 1) * k.server_ips])
        local = np.zeros(n, dtype=np.int64)
        batches.append(
            Batch(
                n,
                ts=ts,
                account=acc.index[i],
                ip=ips[rng.integers(0, len(ips), size=n)],
                ua=acc.ua[i],
                api=API_MESSAGES if acc.anthropic[i] else API_CHAT,
                model=ctx.legit_models(rng, local, ts, 1, adopt_days=20.0),
                stream=True,
                temperature=0.5,
                max_tokens=1024,
                n_messages=n_msgs,
                n_user_turns=turn + 1,
                roles=roles,
                system=system,
                prompt=prompt,
                context_chars=real.all_len[real.conv_first[conv] + turn] + turn * 900,
                completion_tokens=lognormal_tokens(rng, n, 280, 0.7, 5, 1024),
                status=errors(rng, n, k.error_rate),
            )
        )
    return batches


# ---- batch pipelines ---------------------------------------------------------------------------


class BatchPipelineKnobs(_Knobs):
    jobs_per_day: float = 1.0
    job_size: int = 3000  # mean documents per job
    requests_per_second: float = 4.0
    start_hour_local: float = 1.0  # nightly cron


def batch_pipeline(ctx: SimContext, entry: PopulationEntry, k: BatchPipelineKnobs) -> list[Batch]:
    """Nightly summarize/classify jobs: one template per account, high volume, temperature 0,
    short outputs."""
    rng = ctx.world.rng(entry.name, "traffic")
    prng = ctx.world.pyrandom(entry.name, "traffic")
    acc = make_legit_accounts(
        ctx,
        entry,
        "batch_pipeline",
        entry.count,
        countries=k.countries,
        uas=(
            "python-requests/2.32.3",
            "OpenAI/Python 1.54.3",
            "python-httpx/0.27.2",
            "Anthropic/Python 0.39.0",
        ),
        home_ips=[W.datacenter_ip(prng) for _ in range(entry.count)],
        verified_share=0.9,
        anthropic_share=k.anthropic_share,
    )
    from distillguard.sim.text import legit

    batches = []
    docs = ctx.real.doc_texts
    for i in range(entry.count):
        template = legit.RULES["batch_template"][i % len(legit.RULES["batch_template"])]
        n_jobs = int(rng.poisson(k.jobs_per_day * ctx.days))
        day = rng.integers(0, max(1, int(ctx.days)), size=n_jobs)
        starts = (
            ctx.start + day * DAY + (k.start_hour_local - acc.tz[i]) % 24 * 3600 + rng.normal(0, 600, n_jobs)
        )
        sizes = np.maximum(1, rng.poisson(k.job_size, size=n_jobs))
        ts, _, _ = W.expand_sessions(rng, starts, sizes, 1.0 / k.requests_per_second, gap_min_s=0.0)
        keep = (ts >= ctx.start) & (ts < ctx.end)
        ts = ts[keep]
        n = len(ts)
        pool = pools.fixed_template_pool(
            template, min(max(n, 1), 20000), int(rng.integers(2**31)), {"doc": docs}
        )
        prompt = ctx.strings.extend(pool)[rng.integers(0, len(pool), size=n)] if n else np.zeros(0, np.int32)
        system = ctx.strings.intern("You are a precise data-processing assistant. Follow the output format.")
        batches.append(
            Batch(
                n,
                ts=ts,
                account=acc.index[i],
                ip=acc.home_ip[i],
                ua=acc.ua[i],
                api=API_MESSAGES if acc.anthropic[i] else API_CHAT,
                model=ctx.legit_models(rng, np.zeros(n, np.int64), ts, 1, adopt_days=30.0),
                temperature=0.0,
                max_tokens=256,
                n_messages=2,
                n_user_turns=1,
                roles=ctx.strings.intern("su"),
                system=system,
                prompt=prompt,
                completion_tokens=lognormal_tokens(rng, n, 60, 0.6, 1, 256),
                status=errors(rng, n, k.error_rate),
            )
        )
    return batches


# ---- researchers running evals ---------------------------------------------------------------------


class EvalResearcherKnobs(_Knobs):
    runs_per_week: float = 3.0
    run_size: int = 1500  # median items per eval run
    concurrency_gap_s: float = 0.6
    logprob_share: float = 0.3  # runs that score multiple choice with logprobs
    sampling_share: float = 0.2  # runs that sample n>1 completions (pass@k)
    lab_prefix: str = "171.64."


def eval_researcher(ctx: SimContext, entry: PopulationEntry, k: EvalResearcherKnobs) -> list[Batch]:
    """Benchmark runs: templated prompts asking for step-by-step reasoning, in bursts; some use logprobs."""
    rng = ctx.world.rng(entry.name, "traffic")
    prng = ctx.world.pyrandom(entry.name, "traffic")
    lab_ips = [W.ip_in_prefix(prng, k.lab_prefix) for _ in range(max(2, entry.count // 3))]
    domain = prng.choice(
        ["stanford.edu", "cs.cmu.edu", "mila.quebec", "ox.ac.uk", "ethz.ch", "tsinghua.edu.cn"]
    )
    acc = make_legit_accounts(
        ctx,
        entry,
        "eval_researcher",
        entry.count,
        countries=k.countries or ["US"],
        uas=(
            "OpenAI/Python 1.54.3",
            "Anthropic/Python 0.39.0",
            "python-httpx/0.27.2",
            "lm-eval-harness/0.4.5",
        ),
        email_domains=(domain,),
        home_ips=lab_ips,
        verified_share=0.8,
        anthropic_share=k.anthropic_share,
    )
    from distillguard.sim.text import legit

    templates = legit.RULES["eval_template"]
    n_acc = len(acc.index)
    rate = k.runs_per_week / 7.0 * rng.lognormal(-0.3, 0.8, size=n_acc)
    counts = rng.poisson(rate * ctx.days)
    r_local = np.repeat(np.arange(n_acc), counts)
    starts = W.diurnal_times(rng, len(r_local), ctx.start, ctx.days, acc.tz[r_local], "work")
    sizes = np.maximum(20, rng.lognormal(np.log(k.run_size), 0.8, size=len(starts)).astype(np.int64))
    ts, run, _ = W.expand_sessions(rng, starts, sizes, k.concurrency_gap_s, gap_min_s=0.05)
    n = len(ts)
    local = r_local[run]
    tmpl = rng.integers(0, len(templates), size=len(starts))
    pool_idx = []
    for template in templates:
        pool = pools.fixed_template_pool(template, 4000, int(rng.integers(2**31)), {})
        pool_idx.append(ctx.strings.extend(pool))
    pool_mat = np.stack(pool_idx)
    prompt = pool_mat[tmpl[run], rng.integers(0, 4000, size=n)]
    mc = tmpl[run] == 0
    uses_lp = (rng.random(len(starts)) < k.logprob_share)[run] & mc
    sampling = (rng.random(len(starts)) < k.sampling_share)[run] & ~mc
    cot = (tmpl[run] == 1) | (tmpl[run] == 2)
    return [
        Batch(
            n,
            ts=ts,
            account=acc.index[local],
            ip=acc.home_ip[local],
            ua=acc.ua[local],
            api=_api(acc, local),
            model=ctx.legit_models(rng, local, ts, n_acc, adopt_days=2.0),
            temperature=np.where(sampling, 0.8, 0.0),
            n=np.where(sampling & ~acc.anthropic[local], 5, -1),
            max_tokens=np.where(mc, 5, 1024),
            logprobs=uses_lp & ~acc.anthropic[local],
            top_logprobs=np.where(uses_lp & ~acc.anthropic[local], 5, -1),
            n_messages=1,
            n_user_turns=1,
            roles=ctx.strings.intern("u"),
            prompt=prompt,
            completion_tokens=np.where(
                mc,
                1,
                np.where(
                    cot,
                    lognormal_tokens(rng, n, 300, 0.6, 20, 1024),
                    lognormal_tokens(rng, n, 20, 0.5, 1, 100),
                ),
            ),
            status=errors(rng, n, k.error_rate),
        )
    ]


# ---- students ---------------------------------------------------------------------------------------


class StudentKnobs(_Knobs):
    new_account_share: float = 0.05
    universities: int = 3
    sessions_per_day: float = 0.6
    max_turns: int = 4
    campus_share: float = 0.7  # requests from the campus NAT
    campus_ips: int = 6  # NAT egress addresses per university
    exam_day: float | None = 4.0  # day with 4x traffic (exam cram); null for none
    semester_start_days_ago: float = 40.0  # signups cluster at semester start


def student(ctx: SimContext, entry: PopulationEntry, k: StudentKnobs) -> list[Batch]:
    """Students asking for step-by-step explanations; a university's students share an IP prefix and
    email domain and signed up in the same fortnight: the hard negative for infrastructure linking."""
    rng = ctx.world.rng(entry.name, "traffic")
    prng = ctx.world.pyrandom(entry.name, "traffic")
    unis = []
    for _ in range(k.universities):
        country = prng.choice(["US", "GB", "DE", "IN", "CN", "BR", "KR"])
        prefix = f"{prng.choice(W.COUNTRIES[country][1])}.{prng.randint(0, 255)}."
        domain = f"{prng.choice(W.WORDS)}-{prng.choice(['university', 'college', 'tech', 'state'])}.edu"
        nat = [W.ip_in_prefix(prng, prefix) for _ in range(k.campus_ips)]
        unis.append((country, prefix, domain, nat))
    n = entry.count
    uni_of = np.arange(n) % k.universities
    idx = np.empty(n, dtype=np.int32)
    home = []
    tz = np.empty(n)
    sem_start = ctx.start - k.semester_start_days_ago * DAY
    for i in range(n):
        country, prefix, domain, nat = unis[uni_of[i]]
        ip = W.ip_in_country(prng, country)
        home.append(ip)
        tz[i] = W.COUNTRIES[country][0]
        created = sem_start + abs(prng.gauss(0, 4)) * DAY
        if prng.random() < k.new_account_share:  # late enrolment, during the run
            created = ctx.start + prng.uniform(0, 0.9 * ctx.days) * DAY
        org = ctx.world.new_org(entry.name, i, name="Personal", created_at=created)
        idx[i] = ctx.world.new_account(
            entry.name,
            i,
            persona="student",
            campaign_id=None,
            org_id=org,
            created_at=created,
            country=country,
            payment_fingerprint=W.payment_fingerprint(ctx.world.seed, entry.name, i),
            email_domain=domain,
            verified=prng.random() < 0.3,
            signup_ip=prng.choice(nat),
            metadata={"plan": "free"},
        )
    acc = LegitAccounts(
        index=idx,
        country=[unis[u][0] for u in uni_of],
        tz=tz,
        home_ip=ctx.strings.intern_many(home),
        ua=ctx.strings.intern_many([prng.choice(W.APP_UAS + W.SDK_UAS[:3]) for _ in range(n)]),
        anthropic=rng.random(n) < k.anthropic_share,
    )
    starts, s_local = _sessions(rng, ctx, acc, k.sessions_per_day, 0.9, "evening")
    if k.exam_day is not None:  # cram day: add 3x extra sessions on that day
        extra_n = rng.poisson(3 * k.sessions_per_day * n)
        extra_local = rng.integers(0, n, size=extra_n)
        extra = ctx.start + k.exam_day * DAY + rng.random(extra_n) * DAY
        keep = extra < ctx.end
        starts = np.concatenate([starts, extra[keep]])
        s_local = np.concatenate([s_local, extra_local[keep]])
    turns = 1 + np.minimum(rng.geometric(0.55, size=len(starts)) - 1, k.max_turns - 1)
    ts, sess, turn = W.expand_sessions(rng, starts, turns, 90.0, gap_min_s=10.0)
    local = s_local[sess]
    m = len(ts)
    pool = pools.legit_pool(
        "student_wrap", min(max(m, 1), 30000), int(rng.integers(2**31)), {"real": ctx.real.short_texts}
    )
    prompt = ctx.strings.extend(pool)[rng.integers(0, len(pool), size=m)]
    campus = rng.random(m) < k.campus_share
    nat_idx = [ctx.strings.intern_many(u[3]) for u in unis]
    nat_ip = np.array(
        [
            nat_idx[uni_of[a]][j]
            for a, j in zip(local.tolist(), rng.integers(0, k.campus_ips, size=m).tolist(), strict=True)
        ],
        dtype=np.int32,
    )
    roles, n_msgs = roles_column(ctx, False, turn + 1)
    return [
        Batch(
            m,
            ts=ts,
            account=acc.index[local],
            ip=np.where(campus, nat_ip, acc.home_ip[local]),
            ua=acc.ua[local],
            api=_api(acc, local),
            model=ctx.legit_models(rng, local, ts, n, adopt_days=15.0),
            stream=rng.random(m) < 0.7,
            max_tokens=np.where(acc.anthropic[local], 2048, -1),
            n_messages=n_msgs,
            n_user_turns=turn + 1,
            roles=roles,
            prompt=prompt,
            context_chars=-1,
            completion_tokens=lognormal_tokens(rng, m, 450, 0.6, 30, 2048),
            status=errors(rng, m, k.error_rate),
        )
    ]


# ---- translation services ------------------------------------------------------------------------------


class TranslationKnobs(_Knobs):
    requests_per_day: float = 6000.0  # per account


def translation_service(ctx: SimContext, entry: PopulationEntry, k: TranslationKnobs) -> list[Batch]:
    """Localization backends: high, flat volume of templated 'translate this' requests."""
    rng = ctx.world.rng(entry.name, "traffic")
    prng = ctx.world.pyrandom(entry.name, "traffic")
    acc = make_legit_accounts(
        ctx,
        entry,
        "translation_service",
        entry.count,
        countries=k.countries,
        uas=W.SDK_UAS[:6],
        home_ips=[W.datacenter_ip(prng) for _ in range(entry.count)],
        verified_share=1.0,
        anthropic_share=k.anthropic_share,
        plan="enterprise",
    )
    batches = []
    for i in range(entry.count):
        n = int(rng.poisson(k.requests_per_day * ctx.days))
        ts = W.diurnal_times(rng, n, ctx.start, ctx.days, acc.tz[i], "flat")
        pool = pools.legit_pool(
            "translate", min(max(n, 1), 20000), int(rng.integers(2**31)), {"doc": ctx.real.doc_texts}
        )
        prompt = ctx.strings.extend(pool)[rng.integers(0, len(pool), size=n)]
        system = ctx.strings.intern("You are a professional translator. Output only the translation.")
        batches.append(
            Batch(
                n,
                ts=ts,
                account=acc.index[i],
                ip=acc.home_ip[i],
                ua=acc.ua[i],
                api=API_MESSAGES if acc.anthropic[i] else API_CHAT,
                model=ctx.legit_models(rng, np.zeros(n, np.int64), ts, 1, adopt_days=30.0),
                temperature=0.3,
                max_tokens=4096,
                n_messages=2,
                n_user_turns=1,
                roles=ctx.strings.intern("su"),
                system=system,
                prompt=prompt,
                completion_tokens=lognormal_tokens(rng, n, 500, 0.6, 10, 4096),
                status=errors(rng, n, k.error_rate),
            )
        )
    return batches
