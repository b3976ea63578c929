"""Per-account behaviour: fixed-size state updated in O(1) per event.

Every field is a counter, a small histogram or a bounded sketch, so memory per tracked
account does not grow with its traffic. The features a risk model needs (shares, spread,
regularity, breadth) are derived from this state on demand at assessment time.
"""

from __future__ import annotations

import math
from bisect import insort
from dataclasses import dataclass
from hashlib import blake2b

from distillguard.events.schema import AccountInfo, RequestEvent

MASK56 = (1 << 56) - 1
_MIX = 0x9E3779B97F4A7C15
_U64 = (1 << 64) - 1


def stable_hash(value: str) -> int:
    """A 56-bit hash that is the same in every process (Python's str hash is salted).
    Hex digests (skeleton and system-prompt hashes) are folded, anything else hashed."""
    try:
        number = int(value, 16)
    except ValueError:
        return _blake(value)
    folded = 0
    while number:
        folded ^= number & MASK56
        number >>= 56
    return folded


def _blake(value: str) -> int:
    return int.from_bytes(blake2b(value.encode(), digest_size=7).digest(), "big")


def mix(value: int) -> int:
    """Spread an int's bits so bottom-k sampling over it is uniform."""
    return ((value * _MIX) & _U64) >> 8


def lsh_band_keys(signature: list[int], bands: int, rows: int) -> list[int]:
    """Band keys of a MinHash signature: two near-duplicate prompts share at least one."""
    keys: list[int] = []
    for band in range(min(bands, len(signature) // rows)):
        chunk = tuple(signature[band * rows : (band + 1) * rows])
        keys.append(mix(hash(chunk) ^ (band + 1)))
    return keys


class BottomK:
    """The k smallest hashes seen: estimates distinct count and samples a set consistently,
    so two accounts' sketches share the values their underlying sets share."""

    __slots__ = ("k", "values")

    def __init__(self, k: int) -> None:
        self.k = k
        self.values: list[int] = []

    def add(self, value: int) -> bool:
        """Insert; True when the sketch changed."""
        values = self.values
        if len(values) >= self.k:
            if value >= values[-1] or value in values:
                return False
            insort(values, value)
            values.pop()
            return True
        if value in values:
            return False
        insort(values, value)
        return True

    def distinct(self) -> float:
        values = self.values
        if len(values) < self.k:
            return float(len(values))
        return (self.k - 1) / ((values[-1] + 1) / float(MASK56 + 1))


def merged_distinct(sketches: list[BottomK], k: int) -> float:
    """Distinct count of the union of several sets from their bottom-k sketches."""
    union = sorted({v for s in sketches for v in s.values})[:k]
    if len(union) < k:
        return float(len(union))
    return (k - 1) / ((union[-1] + 1) / float(MASK56 + 1))


def ip_prefix(ip: str) -> str:
    """/24 for IPv4, /48 for IPv6: the unit a proxy pool or a campus NAT shares."""
    if not ip:
        return ""
    if ":" in ip:
        return ":".join(ip.split(":")[:3])
    head, _, _ = ip.rpartition(".")
    return head


@dataclass(slots=True)
class WindowConfig:
    skeleton_k: int = 16
    topic_k: int = 12
    lsh_bands: int = 8
    lsh_rows: int = 4
    rate_half_life_s: float = 3600.0
    intent_threshold: float = 0.5
    max_values: int = 6  # distinct IP prefixes / user agents / system prompts kept
    evidence_per_code: int = 3


class AccountState:
    """Everything the detector remembers about one account (bounded)."""

    __slots__ = (
        "account_id",
        "agent_names",
        "created_at",
        "email_domain",
        "evidence",
        "first_seen",
        "gap_m2",
        "gap_mean",
        "gap_n",
        "hours",
        "info",
        "ip_prefixes",
        "langs",
        "last_seen",
        "max_per_minute",
        "minute",
        "minute_count",
        "n",
        "n_cot",
        "n_datagen",
        "n_errors",
        "n_logit_bias",
        "n_logprobs",
        "n_multi_sample",
        "n_one_token",
        "n_rubric",
        "n_single_turn",
        "n_system",
        "n_thinking",
        "n_tools",
        "org_id",
        "output_tokens",
        "prompt_tokens",
        "rate",
        "rate_at",
        "reasoning_tokens",
        "skeletons",
        "stream_n",
        "stream_output_tokens",
        "stream_skeletons",
        "system_hashes",
        "topics",
        "version",
    )

    def __init__(self, account_id: str, config: WindowConfig) -> None:
        self.account_id = account_id
        self.org_id = ""
        self.info: AccountInfo | None = None
        self.created_at: float | None = None
        self.email_domain: str | None = None
        self.first_seen = math.inf
        self.last_seen = 0.0
        self.n = 0
        self.n_errors = 0
        self.output_tokens = 0
        self.prompt_tokens = 0
        self.reasoning_tokens = 0
        self.n_single_turn = 0
        self.n_cot = 0
        self.n_rubric = 0
        self.n_datagen = 0
        self.n_logprobs = 0
        self.n_logit_bias = 0
        self.n_multi_sample = 0
        self.n_one_token = 0  # max_tokens <= 1: only the next-token distribution is wanted
        self.n_tools = 0
        self.n_system = 0
        self.n_thinking = 0
        self.gap_n = 0
        self.gap_mean = 0.0
        self.gap_m2 = 0.0
        self.hours = [0] * 24
        self.minute = -1
        self.minute_count = 0
        self.max_per_minute = 0
        self.rate = 0.0  # exponentially decayed requests, half-life config.rate_half_life_s
        self.rate_at = 0.0
        self.skeletons = BottomK(config.skeleton_k)
        # the harvest-shaped sub-stream: one-shot reasoning / grading / data-generation prompts,
        # judged on its own volume so a blend into a product's real traffic is not diluted
        self.stream_n = 0
        self.stream_output_tokens = 0
        self.stream_skeletons = BottomK(config.skeleton_k)
        self.topics = BottomK(config.topic_k)
        self.system_hashes: list[str] = []
        self.ip_prefixes: list[str] = []
        self.agent_names: list[str] = []
        self.langs: dict[str, int] = {}
        self.evidence: dict[str, list[str]] = {}
        self.version = 0  # bumps when the linking profile (sketches, metadata) changes

    # ---- features ---------------------------------------------------------------------
    def share(self, count: int) -> float:
        return count / self.n if self.n else 0.0

    def gap_cv(self) -> float:
        """Coefficient of variation of inter-arrival gaps: ~1 Poisson, <<1 a metronome."""
        if self.gap_n < 5 or self.gap_mean <= 0:
            return 1.0
        return math.sqrt(self.gap_m2 / (self.gap_n - 1)) / self.gap_mean

    def hour_entropy(self) -> float:
        """Spread over the 24 hours of the day, in [0, 1] (1 = flat, round the clock)."""
        total = sum(self.hours)
        if total < 2:
            return 0.0
        h = -sum((c / total) * math.log(c / total) for c in self.hours if c)
        return h / math.log(24)

    def skeleton_distinct(self) -> float:
        return self.skeletons.distinct()

    def topic_breadth(self) -> float:
        """Distinct near-duplicate clusters per request: ~1 means every prompt is new."""
        return min(1.0, self.topics.distinct() / max(1.0, self.n * 2.0)) if self.n else 0.0

    def skeleton_reuse(self) -> float:
        if self.n < 2:
            return 0.0
        return max(0.0, 1.0 - self.skeletons.distinct() / self.n)

    def active_span_s(self) -> float:
        return max(0.0, self.last_seen - self.first_seen) if self.n else 0.0

    def age_at_first_request_s(self) -> float | None:
        if self.created_at is None or not self.n:
            return None
        return max(0.0, self.first_seen - self.created_at)

    def current_rate(self, now: float, half_life: float) -> float:
        if self.rate_at <= 0:
            return 0.0
        return self.rate * 0.5 ** (max(0.0, now - self.rate_at) / half_life)

    def add_evidence(self, code: str, request_id: str, cap: int) -> None:
        ids = self.evidence.get(code)
        if ids is None:
            self.evidence[code] = [request_id]
        elif len(ids) < cap:
            ids.append(request_id)


def observe_event(
    state: AccountState, event: RequestEvent, config: WindowConfig, band_keys: list[int]
) -> tuple[list[int], list[int]]:
    """Fold one event into the account state. Returns the new skeleton and topic hashes
    that entered the account's sketches (for the linking index)."""
    ts = event.ts_start
    state.n += 1
    if state.n == 1:
        state.first_seen = ts
    else:
        gap = ts - state.last_seen
        if gap >= 0:
            state.gap_n += 1
            delta = gap - state.gap_mean
            state.gap_mean += delta / state.gap_n
            state.gap_m2 += delta * (gap - state.gap_mean)
    if ts > state.last_seen:
        state.last_seen = ts
    if not state.org_id and event.org_id:
        state.org_id = event.org_id
    if event.status >= 400:
        state.n_errors += 1
    state.output_tokens += event.completion_tokens
    state.prompt_tokens += event.prompt_tokens
    state.reasoning_tokens += event.reasoning_tokens
    state.hours[int(ts // 3600) % 24] += 1
    minute = int(ts // 60)
    if minute == state.minute:
        state.minute_count += 1
    else:
        state.minute = minute
        state.minute_count = 1
    if state.minute_count > state.max_per_minute:
        state.max_per_minute = state.minute_count
    if state.rate_at:
        state.rate = state.rate * 0.5 ** (max(0.0, ts - state.rate_at) / config.rate_half_life_s) + 1.0
    else:
        state.rate = 1.0
    state.rate_at = ts

    rid = event.request_id
    cap = config.evidence_per_code
    threshold = config.intent_threshold
    single_turn = event.n_user_turns <= 1 and not event.has_tool_results
    if single_turn:
        state.n_single_turn += 1
    intent = False
    if (event.cot_score or 0.0) >= threshold or event.thinking_budget or event.reasoning_effort:
        if (event.cot_score or 0.0) >= threshold:
            state.n_cot += 1
            state.add_evidence("cot", rid, cap)
            intent = True
        else:
            state.n_thinking += 1
    if (event.rubric_score or 0.0) >= threshold:
        state.n_rubric += 1
        state.add_evidence("rubric", rid, cap)
        intent = True
    if (event.datagen_score or 0.0) >= threshold:
        state.n_datagen += 1
        state.add_evidence("datagen", rid, cap)
        intent = True
    if event.logprobs or event.top_logprobs:
        state.n_logprobs += 1
        state.add_evidence("logprobs", rid, cap)
    if event.logit_bias:
        state.n_logit_bias += 1
        state.add_evidence("logit_bias", rid, cap)
        if event.max_tokens is not None and event.max_tokens <= 1:
            state.n_one_token += 1
    if event.n and event.n > 1:
        state.n_multi_sample += 1
    if event.n_tools or event.has_tool_results:
        state.n_tools += 1
    if event.lang:
        langs = state.langs
        if event.lang in langs or len(langs) < 16:
            langs[event.lang] = langs.get(event.lang, 0) + 1

    changed = False
    if event.system_hash:
        state.n_system += 1
        if event.system_hash not in state.system_hashes and len(state.system_hashes) < config.max_values:
            state.system_hashes.append(event.system_hash)
            changed = True
    prefix = ip_prefix(event.client_ip)
    if prefix and prefix not in state.ip_prefixes and len(state.ip_prefixes) < config.max_values:
        state.ip_prefixes.append(prefix)
        changed = True
    agent = event.user_agent
    if agent and agent not in state.agent_names and len(state.agent_names) < config.max_values:
        state.agent_names.append(agent)
        changed = True

    new_skeletons: list[int] = []
    if event.skeleton_hash:
        h = mix(stable_hash(event.skeleton_hash))
        if state.skeletons.add(h):
            new_skeletons.append(h)
            state.add_evidence("skeleton", rid, cap)
        if intent and single_turn:
            state.stream_skeletons.add(h)
    if intent and single_turn:
        state.stream_n += 1
        state.stream_output_tokens += event.completion_tokens
    new_topics: list[int] = []
    for key in band_keys:
        if state.topics.add(key):
            new_topics.append(key)
    if changed or new_skeletons or new_topics:
        state.version += 1
    return new_skeletons, new_topics
