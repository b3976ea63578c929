from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from distillguard.console.standalone import load_accounts

from .conftest import World


def _tables(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def test_accounts_come_from_the_registry_in_the_event_db(world: World, tmp_path: Path) -> None:
    from distillguard.accounts.registry import SqliteAccountRegistry

    plain = tmp_path / "plain.db"
    shutil.copy(world.db, plain)
    assert load_accounts(str(plain), None) == ({}, {})
    assert "dg_accounts" not in _tables(plain)  # reading never creates the registry's tables

    with_registry = tmp_path / "with_registry.db"
    shutil.copy(world.db, with_registry)
    registry = SqliteAccountRegistry(with_registry)  # DG_KEY_PEPPER from the environment, as the console
    registry.upsert_accounts(world.accounts.values())
    registry.close()
    accounts, _orgs = load_accounts(str(with_registry), None)
    assert set(accounts) == set(world.accounts)
    some = next(a for a in world.accounts.values() if a.payment_fingerprint)
    assert accounts[some.account_id].payment_fingerprint


def test_accounts_jsonl_beside_the_simulator_events(world: World) -> None:
    accounts, orgs = load_accounts(str(world.files["events"]), None)
    assert set(accounts) == set(world.accounts) and orgs
