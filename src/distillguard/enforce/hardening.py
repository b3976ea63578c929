"""API hardening against logit extraction.

Log-probabilities, logit bias and many samples per prompt are what weight-extraction
attacks feed on (Carlini et al. 2024: logit bias + logprobs recover the projection
layer). Hardening rewrites the request before the upstream call, in place, field by
field where the API has the field, and records each change as a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from distillguard.enforce.decide import decision_of
from distillguard.gateway.pipeline import Plugin, Rejection, RequestContext

_LOGPROB_INCLUDES = ("message.output_text.logprobs",)  # Responses API `include` entries


def harden_request(body: dict[str, Any], params: Mapping[str, Any]) -> list[str]:
    """Rewrite `body` in place; return the reason codes of what changed."""
    reasons: list[str] = []
    max_top = int(params.get("max_top_logprobs", 0))
    max_n = int(params.get("max_n", 1))

    logprobs = body.get("logprobs")
    top = body.get("top_logprobs")
    if max_top <= 0:
        if logprobs not in (None, False) or top is not None:
            body.pop("logprobs", None)
            body.pop("top_logprobs", None)
            reasons.append("logprobs_dropped")
    else:
        if isinstance(top, int) and not isinstance(top, bool) and top > max_top:
            body["top_logprobs"] = max_top
            reasons.append("top_logprobs_capped")
        # Legacy completions: `logprobs` is itself the number of alternatives.
        if isinstance(logprobs, int) and not isinstance(logprobs, bool) and logprobs > max_top:
            body["logprobs"] = max_top
            reasons.append("top_logprobs_capped")
    include = body.get("include")
    if max_top <= 0 and isinstance(include, list) and any(i in _LOGPROB_INCLUDES for i in include):
        body["include"] = [i for i in include if i not in _LOGPROB_INCLUDES]
        if "logprobs_dropped" not in reasons:
            reasons.append("logprobs_dropped")

    if params.get("drop_logit_bias", True) and "logit_bias" in body:
        had_bias = body.pop("logit_bias")
        if had_bias:
            reasons.append("logit_bias_dropped")

    for field in ("n", "best_of"):
        value = body.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value > max_n:
            body[field] = max_n
            if "n_capped" not in reasons:
                reasons.append("n_capped")
    return reasons


class HardeningPlugin(Plugin):
    name = "harden"

    async def on_request(self, ctx: RequestContext) -> Rejection | None:
        decision = decision_of(ctx)
        if decision is not None and decision.acts("harden"):
            ctx.event.reasons.extend(harden_request(ctx.body, decision.params_for("harden")))
        return None
