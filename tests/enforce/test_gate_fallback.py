"""Verification required, block, and fallback routing."""

from __future__ import annotations

from enforce_helpers import DictTierStore, entry, make_ctx

from distillguard.detect.api import Tier
from distillguard.enforce.decide import DecisionPlugin
from distillguard.enforce.fallback import FallbackPlugin
from distillguard.enforce.gate import VERIFICATION_URL_HEADER, GatePlugin
from distillguard.enforce.policy import policy_from_dict

RAW = {
    "version": "v",
    "tiers": {"LIKELY": {"actions": ["fallback"]}, "CONFIRMED": {"actions": ["verify"]}},
    "actions": {
        "fallback": {"upstream": "small", "model": "tiny-1"},
        "verify": {"url": "https://verify.example/kyc", "message": "Verify your identity."},
    },
}


async def test_verification_required_is_a_403_with_code_and_url() -> None:
    ctx = make_ctx(account="c")
    await DecisionPlugin(policy_from_dict(RAW), DictTierStore({"c": entry(Tier.CONFIRMED)})).on_request(ctx)
    rejection = await GatePlugin().on_request(ctx)
    assert rejection is not None and rejection.status == 403
    assert rejection.code == "verification_required"
    assert rejection.headers[VERIFICATION_URL_HEADER] == "https://verify.example/kyc"
    assert "https://verify.example/kyc" in rejection.message
    assert ctx.event.action == "verify"


async def test_fallback_reroutes_and_masks_the_model() -> None:
    plugin = FallbackPlugin(known_upstreams={"default", "small"})
    ctx = make_ctx(account="l", body={"model": "big-1", "messages": []})
    await DecisionPlugin(policy_from_dict(RAW), DictTierStore({"l": entry(Tier.LIKELY)})).on_request(ctx)
    assert await plugin.on_request(ctx) is None
    assert ctx.upstream_name == "small" and ctx.body["model"] == "tiny-1"
    assert ctx.event.reasons == ["fallback_upstream", "fallback_model"]
    mask = plugin.response_transform(ctx)
    assert mask is not None
    assert mask.transform_body({"model": "tiny-1", "choices": []})["model"] == "big-1"
    start = {"type": "message_start", "message": {"model": "tiny-1"}}
    assert mask.transform_event(start)[0]["message"]["model"] == "big-1"


async def test_fallback_to_an_unknown_upstream_keeps_the_route() -> None:
    ctx = make_ctx(account="l")
    await DecisionPlugin(policy_from_dict(RAW), DictTierStore({"l": entry(Tier.LIKELY)})).on_request(ctx)
    await FallbackPlugin(known_upstreams={"default"}).on_request(ctx)
    assert ctx.upstream_name == "default" and "fallback_upstream_unknown" in ctx.event.reasons


async def test_normal_accounts_pass_untouched() -> None:
    ctx = make_ctx(account="n", body={"model": "big-1", "messages": []})
    await DecisionPlugin(policy_from_dict(RAW), DictTierStore()).on_request(ctx)
    assert await GatePlugin().on_request(ctx) is None
    assert await FallbackPlugin().on_request(ctx) is None
    assert ctx.body["model"] == "big-1" and ctx.upstream_name == "default"
