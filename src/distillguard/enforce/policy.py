"""The enforcement policy: which risk tiers and reason codes lead to which actions.

A policy is a TOML file (see `default_policy.toml`) loaded once into immutable objects.
Everything the hot path needs is resolved at load time, so deciding a request is a few
dict lookups: per tier a ready `TierRule`, per reason code the rules that mention it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from distillguard.detect.api import Tier

# Canonical order: the strongest action first. Also the order of `event.action`.
ACTIONS: tuple[str, ...] = ("block", "verify", "rate_limit", "fallback", "harden", "protect_reasoning")
# Actions a product may switch on for every caller, whatever their tier.
PRODUCT_ACTIONS: frozenset[str] = frozenset({"harden", "protect_reasoning"})
LIMIT_SCOPES: tuple[str, ...] = ("key", "account", "org")
FLAGGED_SCOPES: tuple[str, ...] = ("account", "campaign")

# Defaults for each action's parameters; a policy file overrides them key by key.
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "protect_reasoning": {
        "mode": "omit",  # "omit" | "summarize"
        "implicit_open": False,  # upstream omits the opening <think> tag: content starts inside one
        "hold_chars": 256,  # streaming: most chars held while text may still turn out to be reasoning
        "max_summary_chars": 280,
        "summarizer_url": "",  # OpenAI-compatible chat endpoint; "" = extractive summary only
        "summarizer_model": "",
        "summarizer_timeout_s": 2.0,
    },
    "harden": {
        "max_top_logprobs": 0,  # 0 = drop logprobs entirely
        "drop_logit_bias": True,
        "max_n": 1,
    },
    "rate_limit": {
        "window_s": 60.0,
        "account": {"requests": 20, "tokens": 40_000},
        "campaign": {"requests": 60, "tokens": 120_000},
    },
    "fallback": {"upstream": "", "model": ""},
    "verify": {
        "url": "https://example.com/verify",
        "message": "Additional verification is required to continue using this API.",
    },
    "block": {"message": "This account has been suspended for violating the usage policies."},
}


class PolicyError(ValueError):
    """The policy file is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Limit:
    requests: int = 0  # per window; 0 = unlimited
    tokens: int = 0  # prompt + completion per window; 0 = unlimited

    @property
    def unlimited(self) -> bool:
        return self.requests <= 0 and self.tokens <= 0


@dataclass(frozen=True, slots=True)
class TierRule:
    actions: tuple[str, ...] = ()
    shadow: bool = False
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # resolved, per action


@dataclass(frozen=True, slots=True)
class ReasonRule:
    reasons: frozenset[str]
    min_tier: Tier
    actions: tuple[str, ...]
    shadow: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    shadow: bool  # global: decide and record, never act
    tiers: Mapping[Tier, TierRule]
    reason_rules: Mapping[str, tuple[ReasonRule, ...]]  # reason code -> rules mentioning it
    allowlist_orgs: frozenset[str]
    product_actions: tuple[str, ...]  # applied to everyone, not subject to shadow
    product_params: Mapping[str, Mapping[str, Any]]
    limits_window_s: float
    limits: Mapping[str, Limit]  # base limits per scope: key, account, org

    def rule_for(self, tier: Tier) -> TierRule:
        return self.tiers.get(tier, _EMPTY_RULE)


_EMPTY_RULE = TierRule()


def _order(actions: list[str] | tuple[str, ...], where: str) -> tuple[str, ...]:
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise PolicyError(f"{where}: unknown action(s) {unknown}; known: {list(ACTIONS)}")
    return tuple(a for a in ACTIONS if a in actions)


def _tier(name: Any, where: str) -> Tier:
    if isinstance(name, int) and not isinstance(name, bool):
        try:
            return Tier(name)
        except ValueError:
            pass
    if isinstance(name, str) and name.upper() in Tier.__members__:
        return Tier[name.upper()]
    raise PolicyError(f"{where}: unknown tier {name!r}; known: {list(Tier.__members__)}")


def _merge_params(base: Mapping[str, Mapping[str, Any]], extra: Any, where: str) -> dict[str, dict[str, Any]]:
    merged = {name: dict(values) for name, values in base.items()}
    if extra is None:
        return merged
    if not isinstance(extra, dict):
        raise PolicyError(f"{where}: expected a table of action parameters")
    for action, values in extra.items():
        if action not in DEFAULT_PARAMS:
            raise PolicyError(f"{where}: parameters for unknown action {action!r}")
        if not isinstance(values, dict):
            raise PolicyError(f"{where}.{action}: expected a table")
        unknown = set(values) - set(DEFAULT_PARAMS[action])
        if unknown:
            raise PolicyError(f"{where}.{action}: unknown parameter(s) {sorted(unknown)}")
        merged[action].update(values)
    return merged


def _limit(raw: Any, where: str) -> Limit:
    if raw is None:
        return Limit()
    if not isinstance(raw, dict) or set(raw) - {"requests", "tokens"}:
        raise PolicyError(f"{where}: expected {{requests = N, tokens = N}}")
    try:
        return Limit(requests=int(raw.get("requests", 0)), tokens=int(raw.get("tokens", 0)))
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{where}: {exc}") from exc


def _freeze(params: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in params.items()})


def policy_from_dict(raw: Mapping[str, Any]) -> Policy:
    """Validate a parsed policy document and resolve it for the hot path."""
    known = {"version", "shadow", "allowlist", "product", "tiers", "reason_rules", "actions", "limits"}
    unknown = set(raw) - known
    if unknown:
        raise PolicyError(f"unknown top-level key(s) {sorted(unknown)}")
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        raise PolicyError("`version` (a non-empty string) is required: every decision records it")
    global_params = _merge_params(DEFAULT_PARAMS, raw.get("actions"), "actions")

    tiers: dict[Tier, TierRule] = {}
    for name, table in (raw.get("tiers") or {}).items():
        where = f"tiers.{name}"
        tier = _tier(name, where)
        if not isinstance(table, dict) or set(table) - {"actions", "shadow", "params"}:
            raise PolicyError(f"{where}: expected a table with actions, shadow, params")
        tiers[tier] = TierRule(
            actions=_order(list(table.get("actions", [])), where),
            shadow=bool(table.get("shadow", False)),
            params=_freeze(_merge_params(global_params, table.get("params"), f"{where}.params")),
        )
    # Tiers the file does not mention act on nothing but still use the global parameters.
    for tier in Tier:
        tiers.setdefault(tier, TierRule(params=_freeze(global_params)))

    by_reason: dict[str, list[ReasonRule]] = {}
    for i, table in enumerate(raw.get("reason_rules") or []):
        where = f"reason_rules[{i}]"
        if not isinstance(table, dict) or not table.get("reasons"):
            raise PolicyError(f"{where}: needs `reasons` (a list of reason codes)")
        rule = ReasonRule(
            reasons=frozenset(str(r) for r in table["reasons"]),
            min_tier=_tier(table.get("min_tier", "WATCH"), where),
            actions=_order(list(table.get("actions", [])), where),
            shadow=bool(table.get("shadow", False)),
        )
        for code in rule.reasons:
            by_reason.setdefault(code, []).append(rule)

    product = raw.get("product") or {}
    product_actions = _order(list(product.get("actions", [])), "product")
    not_allowed = set(product_actions) - PRODUCT_ACTIONS
    if not_allowed:
        raise PolicyError(f"product: only {sorted(PRODUCT_ACTIONS)} can apply to everyone, not {not_allowed}")

    limits_raw = raw.get("limits") or {}
    unknown = set(limits_raw) - {"window_s", *LIMIT_SCOPES}
    if unknown:
        raise PolicyError(f"limits: unknown key(s) {sorted(unknown)}; scopes: {list(LIMIT_SCOPES)}")
    window = float(limits_raw.get("window_s", 60.0))
    if window <= 0:
        raise PolicyError("limits.window_s must be positive")
    allowlist = raw.get("allowlist") or {}
    return Policy(
        version=version,
        shadow=bool(raw.get("shadow", False)),
        tiers=MappingProxyType(tiers),
        reason_rules=MappingProxyType({k: tuple(v) for k, v in by_reason.items()}),
        allowlist_orgs=frozenset(str(o) for o in allowlist.get("orgs", [])),
        product_actions=product_actions,
        product_params=_freeze(_merge_params(global_params, product.get("params"), "product.params")),
        limits_window_s=window,
        limits=MappingProxyType({s: _limit(limits_raw.get(s), f"limits.{s}") for s in LIMIT_SCOPES}),
    )


def load_policy(path: str | Path | None = None) -> Policy:
    """Load a policy file; without a path, the packaged default policy."""
    try:
        if path is None:
            text = resources.files("distillguard.enforce").joinpath("default_policy.toml").read_text()
        else:
            text = Path(path).read_text()
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path or 'default_policy.toml'}: {exc}") from exc
    return policy_from_dict(raw)
