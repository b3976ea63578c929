"""The decision step: tier lookup + overrides + policy -> what to do with this request.

`DecisionPlugin` runs first among the enforcement plugins. It never rejects anything
itself: it leaves a `Decision` in `ctx.state["decision"]` and records it on the event.
Each action plugin (gate, rate limits, hardening, fallback, reasoning) then asks the
decision whether to act, so shadow mode, allowlists and overrides live in one place.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from typing import Any

from distillguard.detect.api import Tier, TierEntry, TierStore
from distillguard.enforce.overrides import Override, OverrideStore
from distillguard.enforce.policy import ACTIONS, Policy
from distillguard.gateway.pipeline import Plugin, Rejection, RequestContext

STATE_KEY = "decision"
_NO_ENTRY = TierEntry()


@dataclass(slots=True)
class Decision:
    policy: Policy = field(repr=False)
    tier: Tier
    chosen: tuple[str, ...]  # every action the policy picked, canonical order
    enforced: frozenset[str]  # the subset that is acted on (the rest is shadow)
    params: Mapping[str, Mapping[str, Any]] = field(repr=False)
    reasons: list[str]  # detector reason codes + enforcement reasons (appended by plugins)
    campaign_id: str | None = None
    product: tuple[str, ...] = ()  # product-wide actions, always enforced
    extra: dict[str, Any] = field(default_factory=dict)

    def acts(self, action: str) -> bool:
        """Whether `action` is to be enforced on this request."""
        return action in self.enforced or action in self.product

    def shadowed(self, action: str) -> bool:
        return action in self.chosen and action not in self.enforced

    def params_for(self, action: str) -> Mapping[str, Any]:
        if action in self.chosen or action not in self.product:
            return self.params[action]
        return self.policy.product_params[action]

    @property
    def shadow(self) -> bool:
        return any(a not in self.enforced for a in self.chosen)

    @property
    def action_label(self) -> str:
        return "+".join(self.chosen) if self.chosen else "allow"


def decide(
    policy: Policy,
    account_id: str,
    org_id: str,
    entry: TierEntry | None,
    account_override: Override | None = None,
    org_override: Override | None = None,
    org_allowlisted: bool = False,
) -> Decision:
    """Pure function of its inputs: the benchmark and the tests call it directly."""
    entry = entry or _NO_ENTRY
    reasons = list(entry.reasons)
    tier = entry.tier
    override = account_override or org_override
    pinned: tuple[str, ...] | None = None
    if override is not None:
        reasons.append(f"override_{override.scope}")
        if override.tier is not None:
            tier = Tier(override.tier)
        elif override.actions is not None:
            pinned = tuple(a for a in override.actions if a != "allow")

    rule = policy.rule_for(tier)
    if pinned is not None:
        # An analyst's explicit actions are enforced even in shadow mode and for partners.
        chosen = pinned
        enforced = frozenset(pinned)
    else:
        shadow_of: dict[str, bool] = {a: rule.shadow for a in rule.actions}
        for code in entry.reasons:
            for reason_rule in policy.reason_rules.get(code, ()):
                if tier >= reason_rule.min_tier:
                    for action in reason_rule.actions:
                        # An action is enforced if any rule that picked it is enforced.
                        shadow_of[action] = shadow_of.get(action, True) and reason_rule.shadow
        chosen = tuple(a for a in ACTIONS if a in shadow_of)
        allowlisted = org_allowlisted or org_id in policy.allowlist_orgs
        if allowlisted and chosen:
            reasons.append("org_allowlisted")
        if policy.shadow or allowlisted:
            enforced = frozenset()
        else:
            enforced = frozenset(a for a in chosen if not shadow_of[a])
    if policy.shadow and chosen and pinned is None:
        reasons.append("shadow_mode")
    return Decision(
        policy=policy,
        tier=tier,
        chosen=chosen,
        enforced=enforced,
        params=rule.params,
        reasons=reasons,
        campaign_id=entry.campaign_id,
        product=policy.product_actions,
    )


def record(decision: Decision, ctx: RequestContext) -> None:
    event = ctx.event
    event.tier = int(decision.tier)
    event.action = decision.action_label
    event.shadow = decision.shadow
    event.reasons = decision.reasons  # shared list: later plugins append their reasons
    event.policy_version = decision.policy.version
    event.campaign_id = decision.campaign_id


class DecisionPlugin(Plugin):
    """Reads the account's tier (O(1)) and the overrides, applies the policy, records it."""

    name = "decide"

    def __init__(
        self,
        policy: Policy,
        tiers: TierStore,
        overrides: OverrideStore | None = None,
        allowlist: Container[str] | None = None,
    ) -> None:
        self.policy = policy  # swap the attribute to reload a policy; decisions carry their own
        self.tiers = tiers
        self.overrides = overrides
        self.allowlist = allowlist  # e.g. OrgAllowlist: the registry's allowlisted orgs

    def decide_for(self, account_id: str, org_id: str) -> Decision:
        account_override = org_override = None
        if self.overrides is not None:
            account_override = self.overrides.get("account", account_id)
            if account_override is None and org_id:
                org_override = self.overrides.get("org", org_id)
        listed = self.allowlist is not None and bool(org_id) and org_id in self.allowlist
        return decide(
            self.policy,
            account_id,
            org_id,
            self.tiers.get(account_id),
            account_override,
            org_override,
            listed,
        )

    async def on_request(self, ctx: RequestContext) -> Rejection | None:
        decision = self.decide_for(ctx.principal.account_id, ctx.principal.org_id)
        ctx.state[STATE_KEY] = decision
        record(decision, ctx)
        return None


def decision_of(ctx: RequestContext) -> Decision | None:
    found = ctx.state.get(STATE_KEY)
    return found if isinstance(found, Decision) else None
