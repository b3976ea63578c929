"""Verification required and block: stop the request before the upstream call.

Both are 403s with a machine-readable `code` the gateway puts in the caller's error shape
(OpenAI `error.code`, Anthropic `error.type`). The official SDKs do not retry a 403, which
is what we want: retrying cannot succeed until a person acts.
"""

from __future__ import annotations

from distillguard.enforce.decide import decision_of
from distillguard.gateway.pipeline import Plugin, Rejection, RequestContext

VERIFICATION_CODE = "verification_required"
BLOCKED_CODE = "account_blocked"
VERIFICATION_URL_HEADER = "x-distillguard-verification-url"
# Anthropic error bodies carry only a type derived from the status (403: permission_error),
# so the machine-readable code also travels in a header, for both APIs.
CODE_HEADER = "x-distillguard-error-code"


class GatePlugin(Plugin):
    name = "gate"

    async def on_request(self, ctx: RequestContext) -> Rejection | None:
        decision = decision_of(ctx)
        if decision is None:
            return None
        if decision.acts("block"):
            ctx.event.action = "block"
            message = str(decision.params_for("block").get("message") or "This account is blocked.")
            return Rejection(
                status=403, message=message, code=BLOCKED_CODE, headers={CODE_HEADER: BLOCKED_CODE}
            )
        if decision.acts("verify"):
            ctx.event.action = "verify"
            params = decision.params_for("verify")
            url = str(params.get("url") or "")
            message = str(params.get("message") or "Verification is required.")
            if url:
                message = f"{message} Verify at {url}"
            headers = {CODE_HEADER: VERIFICATION_CODE}
            if url:
                headers[VERIFICATION_URL_HEADER] = url
            return Rejection(status=403, message=message, code=VERIFICATION_CODE, headers=headers)
        return None
