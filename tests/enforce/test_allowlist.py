"""Allowlisted orgs from the accounts registry: recorded, never acted on."""

from __future__ import annotations

from pathlib import Path

from enforce_helpers import DictTierStore, entry, make_ctx

from distillguard.detect.api import Tier
from distillguard.enforce.allowlist import OrgAllowlist
from distillguard.enforce.decide import DecisionPlugin
from distillguard.enforce.policy import policy_from_dict
from distillguard.events.schema import OrgInfo

POLICY = policy_from_dict({"version": "v", "tiers": {"CONFIRMED": {"actions": ["block"]}}})


def test_registry_allowlist_reaches_the_decision(tmp_path: Path) -> None:
    from distillguard.accounts.registry import open_registry

    db = str(tmp_path / "reg.db")
    with open_registry(db) as registry:
        registry.upsert_org(OrgInfo(org_id="partner", allowlisted=True))
        registry.upsert_org(OrgInfo(org_id="other"))
    allowlist = OrgAllowlist.from_database(db)
    assert "partner" in allowlist and "other" not in allowlist
    plugin = DecisionPlugin(
        POLICY, DictTierStore({"a": entry(Tier.CONFIRMED), "b": entry(Tier.CONFIRMED)}), None, allowlist
    )
    partner = plugin.decide_for("a", "partner")
    assert partner.chosen == ("block",) and not partner.acts("block") and "org_allowlisted" in partner.reasons
    assert plugin.decide_for("b", "other").acts("block")


async def test_reload_keeps_last_good_set_on_error() -> None:
    calls = {"n": 0}

    def load() -> list[str]:
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError("registry down")
        return ["p1"]

    allowlist = OrgAllowlist(load)
    allowlist.reload()
    assert "p1" in allowlist
    ctx = make_ctx(account="x", org="p1")
    await DecisionPlugin(POLICY, DictTierStore({"x": entry(Tier.CONFIRMED)}), None, allowlist).on_request(ctx)
    assert ctx.event.shadow and ctx.event.action == "block"
