"""The decision step: policy by tier and reason, shadow, allowlists, overrides, recording."""

from __future__ import annotations

import pytest
from enforce_helpers import DictTierStore, entry, make_ctx

from distillguard.detect.api import Tier
from distillguard.enforce.decide import DecisionPlugin, decide
from distillguard.enforce.overrides import MemoryOverrideStore, make_override
from distillguard.enforce.policy import PolicyError, load_policy, policy_from_dict
from distillguard.enforce.stack import build_plugins

RAW = {
    "version": "v7",
    "allowlist": {"orgs": ["partner"]},
    "tiers": {
        "SUSPECT": {"actions": ["protect_reasoning", "harden"]},
        "LIKELY": {"actions": ["fallback", "rate_limit"], "shadow": True},
        "CONFIRMED": {"actions": ["block"]},
    },
    "reason_rules": [
        {"reasons": ["logprob_harvest"], "min_tier": "WATCH", "actions": ["harden"]},
        {"reasons": ["cot_share"], "min_tier": "SUSPECT", "actions": ["protect_reasoning"], "shadow": True},
    ],
}


def test_default_policy_loads() -> None:
    policy = load_policy()
    assert policy.version
    assert "verify" in policy.rule_for(Tier.CONFIRMED).actions
    assert policy.rule_for(Tier.CONFIRMED).params["rate_limit"]["account"]["requests"] == 10
    assert policy.rule_for(Tier.LIKELY).params["rate_limit"]["window_s"] == 3600


def test_tier_actions_in_canonical_order_and_enforced() -> None:
    d = decide(policy_from_dict(RAW), "a", "o", entry(Tier.SUSPECT))
    assert d.chosen == ("harden", "protect_reasoning")
    assert d.acts("harden") and d.acts("protect_reasoning") and not d.shadow
    assert d.action_label == "harden+protect_reasoning"


def test_normal_and_unknown_accounts_are_allowed() -> None:
    policy = policy_from_dict(RAW)
    for e in (None, entry(Tier.NORMAL), entry(Tier.WATCH)):
        d = decide(policy, "a", "o", e)
        assert d.chosen == () and d.action_label == "allow" and not d.shadow


def test_reason_rules_add_actions_from_their_min_tier() -> None:
    policy = policy_from_dict(RAW)
    d = decide(policy, "a", "o", entry(Tier.WATCH, "logprob_harvest", "cot_share"))
    assert d.chosen == ("harden",)  # cot_share needs SUSPECT
    d = decide(policy, "a", "o", entry(Tier.SUSPECT, "cot_share"))
    assert d.acts("protect_reasoning")  # the tier rule enforces it; the shadow reason rule cannot undo that


def test_shadow_per_rule_and_global() -> None:
    d = decide(policy_from_dict(RAW), "a", "o", entry(Tier.LIKELY))
    assert d.chosen == ("rate_limit", "fallback") and d.enforced == frozenset() and d.shadow
    d = decide(policy_from_dict(RAW | {"shadow": True}), "a", "o", entry(Tier.CONFIRMED))
    assert d.chosen == ("block",) and not d.acts("block") and "shadow_mode" in d.reasons


def test_allowlisted_org_is_recorded_never_acted_on() -> None:
    d = decide(policy_from_dict(RAW), "a", "partner", entry(Tier.CONFIRMED, "shared_skeleton"))
    assert d.chosen == ("block",) and not d.acts("block")
    assert d.reasons == ["shared_skeleton", "org_allowlisted"]


def test_overrides_account_beats_org_and_pins() -> None:
    policy = policy_from_dict(RAW)
    d = decide(policy, "a", "o", entry(Tier.CONFIRMED), make_override("account", "a", actions=["allow"]))
    assert d.chosen == () and "override_account" in d.reasons
    d = decide(policy, "a", "o", None, None, make_override("org", "o", tier="SUSPECT"))
    assert d.tier == Tier.SUSPECT and d.acts("harden")
    # An analyst's explicit block holds even for a partner and in global shadow mode.
    shadow_policy = policy_from_dict(RAW | {"shadow": True})
    d = decide(shadow_policy, "a", "partner", None, make_override("account", "a", actions=["block"]))
    assert d.acts("block")


async def test_plugin_records_the_decision_on_the_event() -> None:
    tiers = DictTierStore({"a": entry(Tier.SUSPECT, "cot_share", campaign="c1")})
    overrides = MemoryOverrideStore()
    plugin = DecisionPlugin(policy_from_dict(RAW), tiers, overrides)
    ctx = make_ctx(account="a", org="o")
    assert await plugin.on_request(ctx) is None
    ev = ctx.event
    assert (ev.tier, ev.action, ev.shadow, ev.policy_version, ev.campaign_id) == (
        2,
        "harden+protect_reasoning",
        False,
        "v7",
        "c1",
    )
    assert ev.reasons == ["cot_share"]
    overrides.set(make_override("org", "o", actions=["verify"]))
    ctx = make_ctx(account="a", org="o")
    await plugin.on_request(ctx)
    assert ctx.event.action == "verify" and "override_org" in ctx.event.reasons


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "version"),
        ({"version": "x", "tiers": {"SUSPECT": {"actions": ["nuke"]}}}, "unknown action"),
        ({"version": "x", "tiers": {"MEDIUM": {"actions": []}}}, "unknown tier"),
        ({"version": "x", "product": {"actions": ["block"]}}, "everyone"),
        ({"version": "x", "actions": {"harden": {"max_m": 1}}}, "unknown parameter"),
        ({"version": "x", "limits": {"user": {"requests": 1}}}, "unknown key"),
        ({"version": "x", "colour": "red"}, "top-level"),
    ],
)
def test_bad_policies_say_what_is_wrong(raw: dict, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        policy_from_dict(raw)


async def test_product_setting_protects_everyone_and_is_not_shadowed() -> None:
    raw = RAW | {"shadow": True, "product": {"actions": ["protect_reasoning"]}}
    plugins = build_plugins(DictTierStore(), policy_from_dict(raw))
    ctx = make_ctx(account="nobody")
    for p in plugins:
        assert await p.on_request(ctx) is None
    assert ctx.event.action == "allow"
    assert [p.name for p in plugins if p.response_transform(ctx) is not None] == ["reasoning"]


async def test_stack_order_and_block_stops_before_budget() -> None:
    tiers = DictTierStore({"bad": entry(Tier.CONFIRMED)})
    plugins = build_plugins(tiers, policy_from_dict(RAW))
    assert [p.name for p in plugins] == ["decide", "gate", "harden", "fallback", "ratelimit", "reasoning"]
    ctx = make_ctx(account="bad")
    rejection = None
    for p in plugins:
        rejection = await p.on_request(ctx)
        if rejection:
            break
    assert rejection is not None and rejection.status == 403 and rejection.code == "account_blocked"
    assert "ratelimit" not in ctx.state


async def test_composite_plugin_from_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from distillguard.config import Settings
    from distillguard.enforce.overrides import SQLiteOverrideStore, make_override
    from distillguard.enforce.stack import EnforcementPlugin

    default = EnforcementPlugin(Settings())  # what `serve` does with the spec
    assert [p.name for p in default.plugins] == [
        "decide",
        "gate",
        "harden",
        "fallback",
        "ratelimit",
        "reasoning",
    ]
    policy_file = tmp_path / "p.toml"
    policy_file.write_text('version = "from-file"\n[tiers.SUSPECT]\nactions = ["block"]\n')
    db = tmp_path / "o.sqlite"
    SQLiteOverrideStore(db).set(make_override("account", "acct_x", tier="SUSPECT"))
    settings = SimpleNamespace(policy_file=str(policy_file), overrides_db=str(db), tier_store_url="memory://")
    plugin = EnforcementPlugin(settings)
    ctx = make_ctx(account="acct_x")
    rejection = await plugin.on_request(ctx)
    assert rejection is not None and rejection.code == "account_blocked"
    assert ctx.event.policy_version == "from-file" and "override_account" in ctx.event.reasons
