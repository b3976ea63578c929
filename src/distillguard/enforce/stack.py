"""The enforcement plugins in their order, built from one policy: what the gateway mounts.

Order matters: decide first (everyone else reads its decision), then refusals that need no
budget (verify/block), then request rewrites (hardening caps `n`, so the token estimate
that follows is right; fallback picks the upstream), then rate limits, and last the
reasoning transform, which only acts on the response.
"""

from __future__ import annotations

import logging
from collections.abc import Container
from pathlib import Path
from typing import Any

from distillguard.detect.api import TierStore
from distillguard.enforce.decide import DecisionPlugin
from distillguard.enforce.fallback import FallbackPlugin
from distillguard.enforce.gate import GatePlugin
from distillguard.enforce.hardening import HardeningPlugin
from distillguard.enforce.overrides import OverrideStore, SQLiteOverrideStore
from distillguard.enforce.policy import Policy, load_policy
from distillguard.enforce.ratelimit import Limiter, RateLimitPlugin, make_limiter
from distillguard.enforce.reasoning import ReasoningPlugin
from distillguard.gateway.pipeline import Plugin, Rejection, RequestContext, ResponseTransform

log = logging.getLogger(__name__)


def build_plugins(
    tiers: TierStore,
    policy: Policy | str | Path | None = None,
    *,
    limiter: Limiter | str | None = None,
    overrides: OverrideStore | None = None,
    fail_open: bool = True,
    known_upstreams: set[str] | None = None,
    allowlist: Container[str] | None = None,
) -> list[Plugin]:
    """`policy`: a Policy, a TOML path, or None for the packaged default.
    `limiter`: a Limiter, "memory" / None (in-process), or a "redis://" URL.
    `allowlist`: more allowlisted org ids besides the policy's (e.g. `OrgAllowlist`)."""
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    if limiter is None or isinstance(limiter, str):
        limiter = make_limiter(limiter)
    return [
        DecisionPlugin(policy, tiers, overrides, allowlist),
        GatePlugin(),
        HardeningPlugin(),
        FallbackPlugin(known_upstreams),
        RateLimitPlugin(limiter, fail_open=fail_open),
        ReasoningPlugin(),
    ]


class ChainTransform:
    """Several ResponseTransforms as one, applied in order (as the gateway chains them)."""

    def __init__(self, transforms: list[ResponseTransform]) -> None:
        self.transforms = transforms

    def transform_body(self, body: dict[str, Any]) -> dict[str, Any]:
        for t in self.transforms:
            body = t.transform_body(body)
        return body

    def transform_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        events = [event]
        for t in self.transforms:
            events = [e for item in events for e in t.transform_event(item)]
        return events

    def finish(self) -> list[dict[str, Any]]:
        pending: list[dict[str, Any]] = []
        for t in self.transforms:
            pending = [e for item in pending for e in t.transform_event(item)] + t.finish()
        return pending


class EnforcementPlugin(Plugin):
    """The whole stack as one plugin, for `serve`'s "module:Class" plugin list:
    `plugins = ["distillguard.enforce.stack:EnforcementPlugin"]`.

    Reads optional settings (defaults in brackets): `policy_file` [packaged default],
    `tier_store_url` [memory://], `ratelimit_url` [in-process], `ratelimit_fail_open`
    [true], `overrides_db` [no overrides], `org_allowlist_from_registry` [false; true: also
    the orgs marked allowlisted in the registry at `database_url`]. Embedding code can pass `tiers` (e.g. the
    in-process detector's store) or ready `plugins` instead.
    """

    name = "enforce"

    def __init__(
        self,
        settings: Any = None,
        *,
        tiers: TierStore | None = None,
        plugins: list[Plugin] | None = None,
    ) -> None:
        if plugins is None:
            if tiers is None:
                from distillguard.detect.tierstore import open_tier_store

                tiers = open_tier_store(getattr(settings, "tier_store_url", None) or "memory://")
            overrides_db = getattr(settings, "overrides_db", None)
            allowlist = None
            if getattr(settings, "org_allowlist_from_registry", False):
                from distillguard.enforce.allowlist import OrgAllowlist

                allowlist = OrgAllowlist.from_database(settings.database_url).start()
            plugins = build_plugins(
                tiers,
                getattr(settings, "policy_file", None) or None,
                limiter=getattr(settings, "ratelimit_url", None) or None,
                overrides=SQLiteOverrideStore(overrides_db) if overrides_db else None,
                fail_open=bool(getattr(settings, "ratelimit_fail_open", True)),
                known_upstreams=set(getattr(settings, "upstreams", {}) or {}) or None,
                allowlist=allowlist,
            )
        self.tiers = tiers
        self.plugins = plugins

    async def on_request(self, ctx: RequestContext) -> Rejection | None:
        for plugin in self.plugins:
            rejection = await plugin.on_request(ctx)
            if rejection is not None:
                return rejection
        return None

    def response_transform(self, ctx: RequestContext) -> ResponseTransform | None:
        transforms = [t for p in self.plugins if (t := p.response_transform(ctx)) is not None]
        if not transforms:
            return None
        return transforms[0] if len(transforms) == 1 else ChainTransform(transforms)

    async def on_complete(self, ctx: RequestContext) -> None:
        for plugin in self.plugins:
            try:
                await plugin.on_complete(ctx)
            except Exception:  # one plugin's bug must not skip the others' bookkeeping
                log.exception("enforcement plugin %s on_complete failed", plugin.name)
