"""The enforcement plugins in their order, built from one policy: what the gateway mounts.

Order matters: decide first (everyone else reads its decision), then refusals that need no
budget (verify/block), then request rewrites (hardening caps `n`, so the token estimate
that follows is right; fallback picks the upstream), then rate limits, and last the
reasoning transform, which only acts on the response.
"""

from __future__ import annotations

from pathlib import Path

from distillguard.detect.api import TierStore
from distillguard.enforce.decide import DecisionPlugin
from distillguard.enforce.fallback import FallbackPlugin
from distillguard.enforce.gate import GatePlugin
from distillguard.enforce.hardening import HardeningPlugin
from distillguard.enforce.overrides import OverrideStore
from distillguard.enforce.policy import Policy, load_policy
from distillguard.enforce.ratelimit import Limiter, RateLimitPlugin, make_limiter
from distillguard.enforce.reasoning import ReasoningPlugin
from distillguard.gateway.pipeline import Plugin


def build_plugins(
    tiers: TierStore,
    policy: Policy | str | Path | None = None,
    *,
    limiter: Limiter | str | None = None,
    overrides: OverrideStore | None = None,
    fail_open: bool = True,
    known_upstreams: set[str] | None = None,
) -> list[Plugin]:
    """`policy`: a Policy, a TOML path, or None for the packaged default.
    `limiter`: a Limiter, "memory" / None (in-process), or a "redis://" URL."""
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    if limiter is None or isinstance(limiter, str):
        limiter = make_limiter(limiter)
    return [
        DecisionPlugin(policy, tiers, overrides),
        GatePlugin(),
        HardeningPlugin(),
        FallbackPlugin(known_upstreams),
        RateLimitPlugin(limiter, fail_open=fail_open),
        ReasoningPlugin(),
    ]
