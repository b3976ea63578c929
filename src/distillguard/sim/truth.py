"""Ground truth written beside simulated events, never inside them."""

from __future__ import annotations

import msgspec


class AccountTruth(msgspec.Struct, kw_only=True):
    account_id: str
    persona: str  # e.g. "chat_user", "saas_backend", "hydra"
    campaign_id: str | None = None  # None for legitimate accounts
    # A reseller blending harvest into legitimate traffic is an attack account whose
    # requests are only partly harvest; per-request truth below says which.
    is_attack: bool = False


class Truth(msgspec.Struct, kw_only=True):
    scenario: str
    seed: int
    accounts: dict[str, AccountTruth] = msgspec.field(default_factory=dict)
    # request_id -> campaign_id, only for harvest requests (absent = legitimate request)
    attack_requests: dict[str, str] = msgspec.field(default_factory=dict)
    # campaign_id -> strategy name and knobs, for reports
    campaigns: dict[str, dict[str, object]] = msgspec.field(default_factory=dict)
