"""The simulated world: accounts, orgs, opaque ids, IPs, user agents, geography and clocks.

Ids are opaque hashes (never the persona name), so nothing in an event or an account row
reveals ground truth; truth goes to `Truth` only.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from distillguard.events.schema import AccountInfo, OrgInfo
from distillguard.sim.truth import AccountTruth, Truth

# country -> (UTC offset hours, first octets of its (fake) IP space, weight among global users)
COUNTRIES: dict[str, tuple[float, tuple[int, ...], float]] = {
    "US": (-6.0, (23, 24, 50, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 96, 97, 98, 99), 0.30),
    "IN": (5.5, (49, 106, 117, 122, 157), 0.10),
    "GB": (0.0, (2, 5, 25, 31, 51, 81, 86), 0.06),
    "DE": (1.0, (46, 77, 78, 79, 84, 87, 91, 93), 0.06),
    "BR": (-3.0, (177, 179, 186, 187, 189, 191, 200, 201), 0.06),
    "CN": (8.0, (1, 14, 27, 36, 39, 42, 58, 59, 60, 61, 101, 110, 111, 112, 113, 114, 115, 116), 0.06),
    "JP": (9.0, (126, 133, 150, 153, 210, 219, 220), 0.05),
    "FR": (1.0, (37, 62, 80, 82, 83, 88, 90, 92), 0.05),
    "CA": (-5.0, (24, 70, 99, 142, 174, 184), 0.04),
    "KR": (9.0, (1, 14, 27, 39, 58, 59, 61, 112, 121, 175, 211), 0.04),
    "ES": (1.0, (79, 80, 81, 83, 88, 95), 0.03),
    "RU": (3.0, (5, 31, 37, 46, 77, 78, 79, 85, 87, 89, 91, 92, 93, 94, 95), 0.03),
    "SG": (8.0, (8, 13, 18, 52, 54, 103, 118, 119), 0.03),
    "AU": (10.0, (1, 14, 27, 49, 58, 101, 110, 120, 121), 0.03),
    "MX": (-6.0, (131, 148, 177, 187, 189, 200, 201), 0.03),
    "NG": (1.0, (41, 102, 105, 129, 154, 196, 197), 0.03),
}
# Cloud egress ranges (servers of SaaS backends, batch jobs, harvest workers).
DATACENTER_OCTETS = (3, 13, 18, 34, 35, 44, 52, 54, 104, 130, 146, 157, 159, 167, 172, 178, 188, 206)

WEBMAIL = (
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
    "qq.com",
    "163.com",
    "mail.ru",
    "gmx.de",
    "yandex.ru",
    "naver.com",
)
DISPOSABLE = (
    "mailinator.com",
    "tempmail.dev",
    "guerrillamail.com",
    "10minutemail.net",
    "yopmail.com",
    "sharklasers.com",
    "dispostable.com",
    "maildrop.cc",
    "trashmail.io",
    "getnada.com",
)
WORDS = (
    "acme",
    "blue",
    "river",
    "north",
    "nova",
    "pixel",
    "cedar",
    "delta",
    "orbit",
    "maple",
    "quant",
    "summit",
    "lumen",
    "vertex",
    "harbor",
    "atlas",
    "cobalt",
    "ember",
    "fable",
    "granite",
    "helix",
    "iris",
    "juniper",
    "kite",
    "lotus",
    "meridian",
    "nimbus",
    "onyx",
    "prism",
    "quill",
    "rune",
)
ORG_SUFFIX = (
    "Labs",
    "AI",
    "Analytics",
    "Systems",
    "Health",
    "Learning",
    "Software",
    "Data",
    "Digital",
    "Tech",
)

SDK_UAS = (
    "OpenAI/Python 1.54.3",
    "OpenAI/Python 1.55.0",
    "OpenAI/Python 1.51.2",
    "OpenAI/NodeJS 4.72.0",
    "OpenAI/NodeJS 4.67.3",
    "Anthropic/Python 0.39.0",
    "Anthropic/Python 0.40.0",
    "Anthropic/TypeScript 0.32.1",
    "python-httpx/0.27.2",
    "python-requests/2.32.3",
    "axios/1.7.7",
    "Go-http-client/2.0",
    "curl/8.5.0",
)
APP_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "LibreChat/0.7.5",
    "TypingMind/2.1",
    "chatbox/1.4.2",
    "OpenWebUI/0.3.35",
)
AGENT_UAS = (
    "claude-cli/1.0.3 (external, cli)",
    "Cursor/0.42.3",
    "aider/0.62.1",
    "continue/0.8.55",
    "OpenAI/Python 1.54.3",
    "Anthropic/Python 0.39.0",
    "cline/2.1.4",
)

# Local-hour activity profiles (24 weights, normalised where used).
PROFILES: dict[str, tuple[float, ...]] = {
    "human": (
        0.6,
        0.35,
        0.2,
        0.12,
        0.1,
        0.15,
        0.35,
        0.7,
        1.1,
        1.4,
        1.6,
        1.6,
        1.4,
        1.5,
        1.6,
        1.6,
        1.5,
        1.3,
        1.2,
        1.3,
        1.4,
        1.3,
        1.1,
        0.85,
    ),
    "work": (
        0.1,
        0.05,
        0.05,
        0.05,
        0.05,
        0.08,
        0.2,
        0.6,
        1.5,
        2.2,
        2.4,
        2.3,
        1.6,
        2.0,
        2.3,
        2.2,
        1.9,
        1.3,
        0.7,
        0.5,
        0.5,
        0.45,
        0.35,
        0.2,
    ),
    "evening": (
        1.0,
        0.6,
        0.3,
        0.15,
        0.1,
        0.1,
        0.15,
        0.3,
        0.5,
        0.7,
        0.8,
        0.8,
        0.8,
        0.9,
        1.0,
        1.1,
        1.2,
        1.4,
        1.6,
        1.8,
        2.0,
        2.0,
        1.8,
        1.4,
    ),
    "night": (
        2.0,
        2.5,
        2.5,
        2.5,
        2.0,
        1.2,
        0.4,
        0.2,
        0.1,
        0.1,
        0.1,
        0.1,
        0.1,
        0.1,
        0.1,
        0.1,
        0.1,
        0.1,
        0.1,
        0.1,
        0.2,
        0.4,
        0.8,
        1.5,
    ),
    "flat": (1.0,) * 24,
}
WEEKEND_FACTOR = {"human": 0.85, "work": 0.25, "evening": 0.9, "night": 1.0, "flat": 1.0}


def stable_hash(*parts: object, n: int = 12) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:n]


def derive_seed(seed: int, *labels: object) -> int:
    return int(stable_hash(seed, *labels, n=16), 16)


@dataclass
class World:
    """Everything generated besides events: accounts, orgs, ground truth."""

    scenario: str
    seed: int
    start_ts: float
    end_ts: float
    accounts: list[AccountInfo] = field(default_factory=list)
    orgs: list[OrgInfo] = field(default_factory=list)
    truth: Truth = field(init=False)
    campaigns: list[str] = field(default_factory=list)  # campaign index -> id (the `campaign` column)
    _account_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.truth = Truth(scenario=self.scenario, seed=self.seed)

    # --- randomness ---------------------------------------------------------------------
    def rng(self, *labels: object) -> np.random.Generator:
        """Independent stream per label, so adding a persona never shifts another's draws."""
        return np.random.default_rng(derive_seed(self.seed, *labels))

    def pyrandom(self, *labels: object) -> random.Random:
        return random.Random(derive_seed(self.seed, "py", *labels))

    # --- registry ----------------------------------------------------------------------
    def new_org(
        self,
        label: str,
        i: int,
        *,
        name: str,
        created_at: float,
        verified: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> str:
        org_id = "org_" + stable_hash(self.seed, "org", label, i)
        self.orgs.append(
            OrgInfo(
                org_id=org_id, name=name, created_at=created_at, verified=verified, metadata=metadata or {}
            )
        )
        return org_id

    def new_account(
        self,
        label: str,
        i: int,
        *,
        persona: str,
        campaign_id: str | None,
        org_id: str,
        created_at: float,
        country: str,
        payment_fingerprint: str,
        email_domain: str,
        verified: bool,
        signup_ip: str,
        metadata: dict[str, str] | None = None,
    ) -> int:
        account_id = "acct_" + stable_hash(self.seed, "acct", label, i)
        self.accounts.append(
            AccountInfo(
                account_id=account_id,
                org_id=org_id,
                created_at=created_at,
                country=country,
                payment_fingerprint=payment_fingerprint,
                email_domain=email_domain,
                verified=verified,
                signup_ip=signup_ip,
                metadata=metadata or {},
            )
        )
        self.truth.accounts[account_id] = AccountTruth(
            account_id=account_id, persona=persona, campaign_id=campaign_id, is_attack=campaign_id is not None
        )
        self._account_index[account_id] = len(self.accounts) - 1
        return len(self.accounts) - 1

    def new_campaign(self, name: str, strategy: str, knobs: dict[str, object]) -> int:
        campaign_id = "camp_" + stable_hash(self.seed, "campaign", name, n=10)
        self.campaigns.append(campaign_id)
        self.truth.campaigns[campaign_id] = {"name": name, "strategy": strategy, **knobs}
        return len(self.campaigns) - 1

    def campaign_id(self, index: int) -> str:
        return self.campaigns[index]


# --- metadata helpers --------------------------------------------------------------------


def payment_fingerprint(*parts: object) -> str:
    return "pm_" + stable_hash("payment", *parts, n=16)


def pick_countries(rng: np.random.Generator, n: int, countries: Sequence[str] | None = None) -> list[str]:
    names = list(countries) if countries else list(COUNTRIES)
    w = np.array([COUNTRIES[c][2] for c in names])
    return [names[i] for i in rng.choice(len(names), size=n, p=w / w.sum())]


def ip_in_country(rng: random.Random, country: str) -> str:
    first = rng.choice(COUNTRIES[country][1])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def datacenter_ip(rng: random.Random) -> str:
    return (
        f"{rng.choice(DATACENTER_OCTETS)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def ip_in_prefix(rng: random.Random, prefix: str) -> str:
    """`prefix` like '128.32.' or '128.32.14.'"""
    parts = prefix.rstrip(".").split(".")
    rest = [str(rng.randint(0, 255)) for _ in range(3 - len(parts))] + [str(rng.randint(1, 254))]
    return ".".join(parts + rest)


def org_name(rng: random.Random) -> str:
    return f"{rng.choice(WORDS).capitalize()} {rng.choice(ORG_SUFFIX)}"


def diurnal_times(
    rng: np.random.Generator,
    n: int,
    start_ts: float,
    days: float,
    tz_hours: np.ndarray | float,
    profile: str = "human",
) -> np.ndarray:
    """`n` arrival times whose local hour follows `profile` (weekends damped), in [start, start+days)."""
    if n == 0:
        return np.zeros(0)
    hours = np.asarray(PROFILES[profile], dtype=float)
    n_days = max(1, int(np.ceil(days)))
    weekday = [(int(start_ts // 86400) + d + 3) % 7 for d in range(n_days)]  # 1970-01-01 was a Thursday
    day_w = np.array([WEEKEND_FACTOR[profile] if wd >= 5 else 1.0 for wd in weekday])
    if days < n_days:  # partial last day
        day_w[-1] *= days - (n_days - 1)
    day = rng.choice(n_days, size=n, p=day_w / day_w.sum())
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    local = day * 86400.0 + hour * 3600.0 + rng.random(n) * 3600.0
    t = local - np.asarray(tz_hours, dtype=float) * 3600.0
    span = days * 86400.0
    return start_ts + np.mod(t, span)


def poisson_times(rng: np.random.Generator, rate_per_s: float, t0: float, t1: float) -> np.ndarray:
    """Homogeneous Poisson arrivals in [t0, t1)."""
    if t1 <= t0 or rate_per_s <= 0:
        return np.zeros(0)
    n = rng.poisson(rate_per_s * (t1 - t0))
    return np.sort(t0 + rng.random(n) * (t1 - t0))


def expand_sessions(
    rng: np.random.Generator,
    starts: np.ndarray,
    lengths: np.ndarray,
    gap_mean_s: float,
    gap_min_s: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sessions -> requests: (times, session index, turn index within session).

    Gaps inside a session are exponential (bursty); the first request is at the session start.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    sess = np.repeat(np.arange(len(starts)), lengths)
    first = np.cumsum(lengths) - lengths
    turn = np.arange(total) - np.repeat(first, lengths)
    gaps = gap_min_s + rng.exponential(gap_mean_s, size=total)
    gaps[turn == 0] = 0.0
    cum = np.cumsum(gaps)
    base = np.repeat(cum[first] if total else np.zeros(0), lengths)
    times = np.repeat(np.asarray(starts, dtype=float), lengths) + (cum - base)
    return times, sess, turn
