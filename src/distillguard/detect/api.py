"""The detector contract: what the gateway, DistillBench and `hunt` rely on.

Shaped like scikit-learn's estimator API but online: a detector is fed account metadata
and events in time order (`observe_account`, `observe`), and `assess(now)` returns its
current judgement. Any object with these methods can be scored by DistillBench, so the
baselines and the real engine are measured the same way.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Protocol, runtime_checkable

import msgspec

from distillguard.events.schema import AccountInfo, RequestEvent


class Tier(IntEnum):
    """Graduated risk tiers; the enforcement policy maps tiers (and reasons) to actions."""

    NORMAL = 0
    WATCH = 1  # recorded, nothing done
    SUSPECT = 2  # proportionate friction: reasoning protection, API hardening
    LIKELY = 3  # tight limits, fallback model
    CONFIRMED = 4  # verification or block


class Reason(msgspec.Struct, kw_only=True):
    """One reason behind a flag, with the evidence an analyst can check."""

    code: str  # stable machine code, e.g. "shared_skeleton", "cot_share", "payment_shared"
    weight: float  # contribution to the risk, [0, 1]
    detail: str  # one human sentence with the numbers
    evidence: list[str] = msgspec.field(default_factory=list)  # request ids (a few)


class Flag(msgspec.Struct, kw_only=True):
    """A judgement about one account or one campaign (a set of linked accounts)."""

    kind: str  # "account" | "campaign"
    subject_id: str  # account id or campaign id
    risk: float  # [0, 1]
    tier: Tier
    reasons: list[Reason] = msgspec.field(default_factory=list)
    accounts: list[str] = msgspec.field(default_factory=list)  # members, for campaigns
    campaign_id: str | None = None  # for accounts linked into a campaign
    first_flagged: float | None = None  # unix seconds
    requests: int = 0  # requests seen from the subject
    output_tokens: int = 0  # harvest: completion tokens served to the subject


class Assessment(msgspec.Struct, kw_only=True):
    """The detector's current view: every account at or above WATCH, and campaigns."""

    at: float
    accounts: dict[str, Flag] = msgspec.field(default_factory=dict)
    campaigns: dict[str, Flag] = msgspec.field(default_factory=dict)

    def tier_of(self, account_id: str) -> Tier:
        flag = self.accounts.get(account_id)
        return flag.tier if flag else Tier.NORMAL


@runtime_checkable
class Detector(Protocol):
    """Online detector. Events arrive in time order; `assess` may be called at any time."""

    name: str

    def observe_account(self, info: AccountInfo) -> None: ...

    def observe(self, event: RequestEvent) -> None: ...

    def assess(self, now: float) -> Assessment: ...


class TierEntry(msgspec.Struct, kw_only=True):
    """What the gateway reads per request, in O(1): the tier and why."""

    tier: Tier = Tier.NORMAL
    reasons: list[str] = msgspec.field(default_factory=list)  # reason codes
    campaign_id: str | None = None
    risk: float = 0.0
    updated_at: float = 0.0


class TierStore(Protocol):
    """Where the detector publishes tiers and the gateway reads them (memory, Redis, PostgreSQL)."""

    def get(self, account_id: str) -> TierEntry | None: ...

    def publish(self, entries: dict[str, TierEntry]) -> None: ...
