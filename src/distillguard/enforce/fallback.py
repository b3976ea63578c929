"""Fallback: serve flagged accounts from another upstream or a smaller model.

Quieter than a refusal: the caller still gets answers, but not the ones worth distilling.
`mask_model` keeps the `model` field of responses equal to what the caller asked for, so
the switch is not announced in every response.
"""

from __future__ import annotations

from typing import Any

from distillguard.enforce.decide import decision_of
from distillguard.gateway.pipeline import Plugin, Rejection, RequestContext, ResponseTransform


class ModelMask:
    """Rewrites the `model` field of bodies and stream events back to the requested model."""

    def __init__(self, requested: str) -> None:
        self.requested = requested

    def transform_body(self, body: dict[str, Any]) -> dict[str, Any]:
        if "model" in body:
            body["model"] = self.requested
        return body

    def transform_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        if "model" in event:
            event["model"] = self.requested  # OpenAI chunks
        message = event.get("message")
        if isinstance(message, dict) and "model" in message:
            message["model"] = self.requested  # Anthropic message_start
        return [event]

    def finish(self) -> list[dict[str, Any]]:
        return []


class FallbackPlugin(Plugin):
    name = "fallback"

    def __init__(self, known_upstreams: set[str] | None = None, mask_model: bool = True) -> None:
        self.known_upstreams = known_upstreams  # None: trust the policy's names
        self.mask_model = mask_model

    async def on_request(self, ctx: RequestContext) -> Rejection | None:
        decision = decision_of(ctx)
        if decision is None or not decision.acts("fallback"):
            return None
        params = decision.params_for("fallback")
        upstream = str(params.get("upstream") or "")
        model = str(params.get("model") or "")
        if upstream:
            if self.known_upstreams is not None and upstream not in self.known_upstreams:
                ctx.event.reasons.append("fallback_upstream_unknown")
            else:
                ctx.upstream_name = upstream
                ctx.event.upstream = upstream
                ctx.event.reasons.append("fallback_upstream")
        if model:
            requested = ctx.body.get("model")
            ctx.state[self.name] = requested if isinstance(requested, str) else ""
            ctx.body["model"] = model
            ctx.event.reasons.append("fallback_model")
        return None

    def response_transform(self, ctx: RequestContext) -> ResponseTransform | None:
        requested = ctx.state.get(self.name)
        if not self.mask_model or not requested:
            return None
        return ModelMask(requested)
