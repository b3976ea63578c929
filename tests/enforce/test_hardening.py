"""API hardening: logprobs, logit_bias, n, on both APIs' fields."""

from __future__ import annotations

from enforce_helpers import DictTierStore, entry, make_ctx

from distillguard.detect.api import Tier
from distillguard.enforce.decide import DecisionPlugin
from distillguard.enforce.hardening import HardeningPlugin, harden_request
from distillguard.enforce.policy import policy_from_dict

DROP = {"max_top_logprobs": 0, "drop_logit_bias": True, "max_n": 1}


def test_chat_request_is_stripped_of_extraction_levers() -> None:
    body = {"logprobs": True, "top_logprobs": 20, "logit_bias": {"123": 100}, "n": 8, "model": "m"}
    reasons = harden_request(body, DROP)
    assert body == {"model": "m", "n": 1}
    assert reasons == ["logprobs_dropped", "logit_bias_dropped", "n_capped"]


def test_caps_instead_of_drops() -> None:
    body = {"logprobs": True, "top_logprobs": 20, "n": 8}
    reasons = harden_request(body, {"max_top_logprobs": 2, "drop_logit_bias": True, "max_n": 4})
    assert body == {"logprobs": True, "top_logprobs": 2, "n": 4}
    assert reasons == ["top_logprobs_capped", "n_capped"]


def test_legacy_completions_and_responses_fields() -> None:
    legacy = {"prompt": "x", "logprobs": 5, "best_of": 5, "n": 2}
    harden_request(legacy, {"max_top_logprobs": 1, "max_n": 1})
    assert legacy == {"prompt": "x", "logprobs": 1, "best_of": 1, "n": 1}
    responses = {
        "input": "x",
        "top_logprobs": 5,
        "include": ["message.output_text.logprobs", "reasoning.encrypted_content"],
    }
    assert harden_request(responses, DROP) == ["logprobs_dropped"]
    assert responses == {"input": "x", "include": ["reasoning.encrypted_content"]}


def test_untouched_request_has_no_reasons() -> None:
    body = {"messages": [], "n": 1, "logprobs": False, "logit_bias": {}}
    assert harden_request(body, DROP) == []
    assert body == {"messages": [], "n": 1, "logprobs": False}  # empty bias removed silently


async def test_plugin_only_for_tiers_the_policy_names() -> None:
    policy = policy_from_dict({"version": "v", "tiers": {"SUSPECT": {"actions": ["harden"]}}})
    decide = DecisionPlugin(policy, DictTierStore({"s": entry(Tier.SUSPECT)}))
    for account, expect_n, expect_reasons in (("s", 1, ["n_capped"]), ("ok", 5, [])):
        ctx = make_ctx(account=account, body={"model": "m", "messages": [], "n": 5})
        await decide.on_request(ctx)
        await HardeningPlugin().on_request(ctx)
        assert ctx.body["n"] == expect_n
        assert ctx.event.reasons == expect_reasons
