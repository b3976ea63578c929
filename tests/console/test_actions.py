from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.console.actions import ActionError, Actions
from distillguard.console.auth import User
from distillguard.console.labels import LabelStore
from distillguard.console.state import StateDB
from distillguard.detect.api import Tier
from distillguard.enforce.overrides import SQLiteOverrideStore

ORGS = {"a1": "org_a", "a2": "org_a", "b1": "org_b"}
ADMIN = User(username="admin", role="admin")
ANALYST_A = User(username="ana", role="analyst", org_id="org_a")
VIEWER = User(username="vic", role="viewer")


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Actions, LabelStore, SQLiteOverrideStore]:
    labels = LabelStore(StateDB(tmp_path / "state.db"))
    overrides = SQLiteOverrideStore(tmp_path / "overrides.sqlite")
    return Actions(labels, overrides, lambda a: ORGS.get(a, "")), labels, overrides


def test_ban_and_unban_go_to_the_overrides_the_gateway_reads(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    actions, labels, _ = setup
    actions.ban(ADMIN, ["a1", "b1"], note="hydra")
    # a second store on the same file (the gateway's) sees the ban
    gateway_view = SQLiteOverrideStore(tmp_path / "overrides.sqlite", refresh_s=0)
    ban = gateway_view.get("account", "a1")
    assert ban is not None and ban.actions == ("block",) and "admin" in ban.note
    assert actions.unban(ADMIN, "a1")
    assert gateway_view.get("account", "a1") is None
    assert not actions.unban(ADMIN, "a1")
    log = labels.audit_log()
    assert [(e.actor, e.action, e.subject_id) for e in log][:3] == [
        ("admin", "unban", "a1"),
        ("admin", "unban", "a1"),
        ("admin", "ban", "b1"),
    ]
    assert log[0].detail.startswith("no override")


def test_set_tier(setup) -> None:  # type: ignore[no-untyped-def]
    actions, labels, overrides = setup
    actions.set_tier(ADMIN, "a1", "likely", note="looks scripted")
    got = overrides.get("account", "a1")
    assert got is not None and got.tier == Tier.LIKELY
    with pytest.raises(ActionError, match="unknown tier"):
        actions.set_tier(ADMIN, "a1", "EXTREME")
    assert labels.audit_log()[0].detail == "override tier LIKELY: looks scripted"


def test_confirm_and_dismiss_label_accounts(setup) -> None:  # type: ignore[no-untyped-def]
    actions, labels, _ = setup
    actions.label(ADMIN, ["a1", "a2"], "attack", campaign_id="camp-1")
    actions.label(ADMIN, ["a2"], "legit")
    got = labels.labels()
    assert got["a1"].label == "attack" and got["a2"].label == "legit"
    kinds = [(e.action, e.subject_kind) for e in labels.audit_log()]
    assert ("confirm", "campaign") in kinds and ("dismiss", "account") in kinds


def test_viewers_cannot_act_and_scoped_analysts_only_in_their_org(setup) -> None:  # type: ignore[no-untyped-def]
    actions, labels, overrides = setup
    with pytest.raises(ActionError, match="viewer"):
        actions.ban(VIEWER, ["a1"])
    with pytest.raises(ActionError, match="not in your org"):
        actions.ban(ANALYST_A, ["a1", "b1"])
    assert overrides.get("account", "a1") is None  # nothing half-done
    actions.ban(ANALYST_A, ["a1"])
    assert overrides.get("account", "a1") is not None
    assert all(e.actor == "ana" for e in labels.audit_log())


def test_without_an_overrides_store_tiers_are_refused(tmp_path: Path) -> None:
    actions = Actions(LabelStore(StateDB(tmp_path / "s.db")), None, lambda a: "")
    with pytest.raises(ActionError, match="no overrides store"):
        actions.ban(ADMIN, ["a1"])
