"""Manual overrides: validation, the SQLite store seen by another process's writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.detect.api import Tier
from distillguard.enforce.overrides import SQLiteOverrideStore, make_override


def test_validation() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        make_override("account", "a")
    with pytest.raises(ValueError, match="exactly one"):
        make_override("account", "a", tier="LIKELY", actions=["block"])
    with pytest.raises(ValueError, match="unknown tier"):
        make_override("account", "a", tier="MEDIUM")
    with pytest.raises(ValueError, match="unknown action"):
        make_override("org", "o", actions=["nuke"])
    assert make_override("org", "o", actions=["harden", "block"]).actions == ("block", "harden")


def test_sqlite_store_sees_writes_from_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    gateway = SQLiteOverrideStore(path, refresh_s=0)
    cli = SQLiteOverrideStore(path)
    assert gateway.get("account", "a") is None
    cli.set(make_override("account", "a", tier=Tier.CONFIRMED, note="ticket 7"))
    found = gateway.get("account", "a")
    assert found is not None and found.tier == Tier.CONFIRMED and found.note == "ticket 7"
    assert cli.clear("account", "a") and not cli.clear("account", "a")
    assert gateway.get("account", "a") is None
    gateway.close()
    cli.close()


def test_expired_override_is_ignored(tmp_path: Path) -> None:
    store = SQLiteOverrideStore(tmp_path / "o.sqlite")
    store.set(make_override("org", "o", actions=["block"], ttl_s=10, now=0.0))
    assert store.get("org", "o") is None
    assert len(store.list()) == 1
    store.close()
