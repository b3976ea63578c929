"""Cross-account campaign linking: a weighted account graph built incrementally.

Every account has a small *profile* of typed tokens: sampled skeleton hashes and
near-duplicate (LSH band) keys of its prompts, system prompts, IP prefixes, user agents,
payment fingerprint, non-webmail email domain, signup-time buckets. Two accounts that
hold the same token get a pair record the moment the second one acquires it (O(holders),
with holders capped), so linking never compares all pairs.

A pair's strength is the sum of its shared tokens' weights, each scaled by how *specific*
the token is: a skeleton shared by 3 accounts says a lot, one shared by 3,000 (a generic
"hello") says almost nothing (IDF-style). Same-org pairs get no edge (an org is a declared
group, e.g. a company's employees). Replacement-after-ban pairs (one account goes quiet and
a fresh one with a similar profile starts right after) add their own evidence.

Communities are connected components over strong edges; each is scored as one campaign on
its combined harvest (see scoring.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from distillguard.detect.accounts import MASK56, AccountState, ip_prefix, stable_hash

# token types (high byte of a token int)
SKEL, TOPIC, SYS, IP, UA, PAY, EMAIL, SIGNUP, SIGNUP_IP = range(1, 10)
TYPE_NAMES = {
    SKEL: "shared_skeleton",
    TOPIC: "near_duplicate_prompts",
    SYS: "shared_system_prompt",
    IP: "shared_ip_prefix",
    UA: "shared_user_agent",
    PAY: "shared_payment",
    EMAIL: "shared_email_domain",
    SIGNUP: "signup_burst",
    SIGNUP_IP: "shared_signup_ip",
}
CONTENT_TYPES = frozenset({SKEL, TOPIC})
# Evidence that only a coordinated operation produces; the rest (IP, user agent, signup
# metadata, email domain) is also shared by campuses and offices.
STRONG_TYPES = frozenset({SKEL, TOPIC, PAY, SYS})
REPLACEMENT = "replacement_after_ban"

# Big webmail providers: sharing one of these says nothing about coordination.
WEBMAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "ymail.com", "icloud.com", "me.com", "aol.com", "proton.me",
        "protonmail.com", "gmx.com", "gmx.de", "mail.com", "yandex.ru", "yandex.com",
        "mail.ru", "qq.com", "163.com", "126.com", "sina.com", "naver.com", "web.de",
        "zoho.com", "fastmail.com", "tutanota.com",
    }
)  # fmt: skip


def token(kind: int, value: int) -> int:
    return (kind << 56) | (value & MASK56)


def token_kind(tok: int) -> int:
    return tok >> 56


@dataclass(slots=True)
class LinkConfig:
    weights: dict[int, float] = field(
        default_factory=lambda: {
            SKEL: 0.30,
            TOPIC: 0.12,
            SYS: 0.35,
            IP: 0.30,
            UA: 0.12,
            PAY: 1.5,
            EMAIL: 0.25,
            SIGNUP: 0.22,
            SIGNUP_IP: 0.45,
        }
    )
    specific_df: int = 8  # tokens held by at most this many accounts count fully
    pair_cap: int = 40  # holders remembered per token; later holders pair with a sample
    sample_pairs: int = 6  # pairs made for a holder beyond pair_cap
    tokens_per_pair: int = 16
    edge_min: float = 0.55  # link strength (1 - exp(-sum)) needed for an edge
    signup_bucket_s: float = 600.0
    replacement_gap_s: float = 1800.0  # fresh account starting within this after one stops
    replacement_quiet_s: float = 3600.0  # the old one must stay quiet this long
    replacement_weight: float = 0.5
    # Content shared with a very broad account (thousands of distinct prompt shapes, e.g. a
    # SaaS backend serving the public) is expected by chance: scale by breadth_ref / breadth.
    breadth_ref: float = 1000.0
    split_above: int = 12  # components this large are split into Louvain communities
    split_resolution: float = 0.2  # < 1: coarse communities, only clean cuts split


def specificity(df: int, specific_df: int) -> float:
    if df <= specific_df:
        return 1.0
    return math.sqrt(specific_df / df)


class CampaignLinker:
    """Incremental pair index over account profiles."""

    def __init__(self, config: LinkConfig | None = None) -> None:
        self.config = config or LinkConfig()
        # token -> its only holder, or [holder count, first pair_cap holders...]
        self.index: dict[int, str | list[int | str]] = {}
        self.org_of: dict[str, str] = {}
        self.pairs: dict[tuple[str, str], list[int]] = {}  # shared tokens per account pair
        self.replacements: dict[tuple[str, str], float] = {}  # pair -> gap seconds
        self.dirty_pairs: set[tuple[str, str]] = set()
        self.edges: dict[tuple[str, str], tuple[float, float, float]] = {}
        self._sample_cursor: dict[int, int] = {}
        self._components: list[list[str]] | None = None
        self.breadth: dict[str, float] = {}  # account -> distinct skeletons (set by the engine)

    # ---- profile updates ------------------------------------------------------------
    def add_tokens(self, account_id: str, tokens: Iterable[int]) -> None:
        """Register tokens new to this account (callers pass each token once per account:
        a bottom-k sketch never re-admits a value it evicted, metadata lists dedupe)."""
        cfg = self.config
        index = self.index
        for tok in tokens:
            entry = index.get(tok)
            if entry is None:
                index[tok] = account_id  # one holder: no list allocated
                continue
            if isinstance(entry, str):
                if entry == account_id:
                    continue
                entry = index[tok] = [2, entry]
                partners: list[str] = [entry[1]]  # type: ignore[list-item]
                entry.append(account_id)
            else:
                if account_id in entry:
                    continue
                entry[0] += 1  # type: ignore[operator]
                holders = entry[1:]
                if len(holders) < cfg.pair_cap:
                    partners = holders  # type: ignore[assignment]
                    entry.append(account_id)
                else:
                    # rotate through the remembered holders so later ones spread their pairs
                    start = self._sample_cursor.get(tok, 0)
                    partners = [holders[(start + i) % len(holders)] for i in range(cfg.sample_pairs)]  # type: ignore[misc]
                    self._sample_cursor[tok] = (start + cfg.sample_pairs) % len(holders)
            for other in partners:
                key = (account_id, other) if account_id < other else (other, account_id)
                shared = self.pairs.get(key)
                if shared is None:
                    self.pairs[key] = [tok]
                elif len(shared) < cfg.tokens_per_pair and tok not in shared:
                    shared.append(tok)
                self.dirty_pairs.add(key)

    def df(self, tok: int) -> int:
        """Number of accounts holding the token."""
        entry = self.index.get(tok)
        if entry is None:
            return 0
        return 1 if isinstance(entry, str) else entry[0]  # type: ignore[return-value]

    def set_org(self, account_id: str, org_id: str) -> None:
        if org_id:
            self.org_of[account_id] = org_id

    def meta_tokens(self, state: AccountState) -> list[int]:
        """Profile tokens from what the account's requests carry besides the prompt."""
        toks = [token(SYS, stable_hash(h)) for h in state.system_hashes]
        toks.extend(token(IP, stable_hash(p)) for p in state.ip_prefixes)
        toks.extend(token(UA, stable_hash(a)) for a in state.agent_names)
        return toks

    def info_tokens(self, state: AccountState) -> list[int]:
        info = state.info
        if info is None:
            return []
        toks: list[int] = []
        if info.payment_fingerprint:
            toks.append(token(PAY, stable_hash(info.payment_fingerprint)))
        domain = (info.email_domain or "").lower()
        if domain and domain not in WEBMAIL:
            toks.append(token(EMAIL, stable_hash(domain)))
        if info.created_at:
            bucket = self.config.signup_bucket_s
            toks.append(token(SIGNUP, int(info.created_at // bucket) * 2))
            toks.append(token(SIGNUP, int((info.created_at + bucket / 2) // bucket) * 2 + 1))
        if info.signup_ip:
            toks.append(token(SIGNUP_IP, stable_hash(ip_prefix(info.signup_ip))))
        return toks

    def note_replacement(self, old: str, new: str, gap_s: float) -> None:
        key = (old, new) if old < new else (new, old)
        self.replacements[key] = gap_s
        self.dirty_pairs.add(key)

    # ---- scoring pairs --------------------------------------------------------------
    def pair_strength(self, key: tuple[str, str]) -> tuple[float, float, float]:
        """(strength, strong part, weak part), each 1 - exp(-sum of specific shared-token
        weights); strong = content/payment/system prompt, weak = infrastructure/signup."""
        cfg = self.config
        a, b = key
        org_a = self.org_of.get(a)
        if org_a and org_a == self.org_of.get(b):
            return 0.0, 0.0, 0.0
        strong = weak = 0.0
        broad = max(self.breadth.get(a, 0.0), self.breadth.get(b, 0.0))
        content_scale = min(1.0, cfg.breadth_ref / broad) if broad > 0 else 1.0
        for tok in self.pairs.get(key, ()):
            kind = token_kind(tok)
            w = cfg.weights.get(kind, 0.0)
            if kind != PAY:  # a card paying for many unrelated accounts is more telling, not less
                w *= specificity(max(1, self.df(tok)), cfg.specific_df)
            if kind in CONTENT_TYPES:
                w *= content_scale
            if kind in STRONG_TYPES:
                strong += w
            else:
                weak += w
        if key in self.replacements and strong + weak > 0.1:
            strong += cfg.replacement_weight
        return 1.0 - math.exp(-strong - weak), 1.0 - math.exp(-strong), 1.0 - math.exp(-weak)

    def relink(self, full: bool = False) -> None:
        """Re-score the pairs touched since the last call (all pairs when `full`)."""
        keys: Iterable[tuple[str, str]] = (
            list(self.pairs) + list(self.replacements) if full else self.dirty_pairs
        )
        edge_min = self.config.edge_min
        edges = self.edges
        for key in keys:
            strength, strong, weak = self.pair_strength(key)
            if strength >= edge_min:
                if key not in edges:
                    self._components = None
                edges[key] = (strength, strong, weak)
            elif edges.pop(key, None) is not None:
                self._components = None
        self.dirty_pairs = set()

    def components(self) -> list[list[str]]:
        """Communities (size >= 2): connected components over the current edges, large ones
        split by Louvain so a few chance edges cannot bridge a campaign to a campus
        (cached until the edge set changes)."""
        if self._components is None:
            out: list[list[str]] = []
            for comp in self._find_components():
                if len(comp) >= self.config.split_above:
                    out.extend(c for c in self._split(comp) if len(c) >= 2)
                else:
                    out.append(comp)
            self._components = out
        return self._components

    def _split(self, comp: list[str]) -> list[list[str]]:
        import networkx as nx

        members = set(comp)
        graph = nx.Graph()
        graph.add_nodes_from(comp)
        for (a, b), (strength, _strong, _weak) in self.edges.items():
            if a in members:
                graph.add_edge(a, b, weight=strength)
        parts = nx.community.louvain_communities(
            graph, weight="weight", resolution=self.config.split_resolution, seed=7
        )
        return [sorted(p) for p in parts]

    def _find_components(self) -> list[list[str]]:
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            root = x
            while parent.get(root, root) != root:
                root = parent[root]
            while parent.get(x, x) != root:
                parent[x], x = root, parent[x]
            return root

        for a, b in self.edges:
            parent.setdefault(a, a)
            parent.setdefault(b, b)
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        groups: dict[str, list[str]] = {}
        for node in parent:
            groups.setdefault(find(node), []).append(node)
        return [sorted(g) for g in groups.values() if len(g) >= 2]

    def shared_summary(self, edges: list[tuple[str, str]]) -> dict[int, tuple[int, float]]:
        """Per token type over these edges: (pairs sharing one, mean specificity)."""
        out: dict[int, list[float]] = {}
        for key in edges:
            kinds: dict[int, float] = {}
            for tok in self.pairs.get(key, ()):
                kind = token_kind(tok)
                kinds[kind] = max(
                    kinds.get(kind, 0.0), specificity(max(1, self.df(tok)), self.config.specific_df)
                )
            for kind, spec in kinds.items():
                out.setdefault(kind, []).append(spec)
        return {k: (len(v), sum(v) / len(v)) for k, v in out.items()}

    def replacement_count(self, members: list[str]) -> int:
        member_set = set(members)
        return sum(1 for a, b in self.replacements if a in member_set and b in member_set)

    def forget(self, accounts: set[str]) -> None:
        """Drop idle accounts from the pair index (token counts keep their history)."""
        if not accounts:
            return
        self.pairs = {k: v for k, v in self.pairs.items() if k[0] not in accounts and k[1] not in accounts}
        self.edges = {k: v for k, v in self.edges.items() if k[0] not in accounts and k[1] not in accounts}
        self.replacements = {
            k: v for k, v in self.replacements.items() if k[0] not in accounts and k[1] not in accounts
        }
        self.dirty_pairs = {k for k in self.dirty_pairs if k[0] not in accounts and k[1] not in accounts}
        for tok, entry in list(self.index.items()):
            if isinstance(entry, str):
                if entry in accounts:
                    del self.index[tok]
            elif any(h in accounts for h in entry[1:]):
                entry[1:] = [h for h in entry[1:] if h not in accounts]
        for account in accounts:
            self.org_of.pop(account, None)
            self.breadth.pop(account, None)
        self._components = None
