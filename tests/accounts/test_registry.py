from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.accounts.keys import parse_key
from distillguard.accounts.principal import Principal
from distillguard.accounts.registry import (
    PepperMismatch,
    SqlAccountRegistry,
    SqliteAccountRegistry,
    open_registry,
)
from distillguard.events.schema import AccountInfo, OrgInfo

from .conftest import PEPPER


def test_created_key_resolves_to_its_principal(registry: SqlAccountRegistry) -> None:
    raw, record = registry.create_key("acct-1", "org-1", name="ci")
    assert parse_key(raw) is not None and raw.startswith(f"dg-{record.key_id}-")
    assert registry.verify(raw) == Principal(key_id=record.key_id, account_id="acct-1", org_id="org-1")
    assert registry.get_account("acct-1") is not None and registry.get_org("org-1") is not None
    assert record.secret_hash not in raw and parse_key(raw)[1] not in record.secret_hash  # type: ignore[index]


def test_wrong_secret_unknown_and_malformed_keys_fail(registry: SqlAccountRegistry) -> None:
    raw, _ = registry.create_key("acct-1", "org-1")
    flipped = raw[:-1] + ("0" if raw[-1] != "0" else "1")
    assert registry.verify(flipped) is None
    assert registry.verify(f"dg-{'0' * 12}-{'0' * 48}") is None
    assert registry.verify("sk-not-ours") is None and registry.verify("") is None


def test_revoked_keys_fail_and_stay_listed(registry: SqlAccountRegistry) -> None:
    raw, record = registry.create_key("acct-1", "org-1")
    other, _ = registry.create_key("acct-1")
    assert registry.revoke_key(record.key_id) is True
    assert registry.revoke_key(record.key_id) is False  # already revoked
    assert registry.revoke_key("nope") is False
    assert registry.verify(raw) is None and registry.verify(other) is not None
    listed = {k.key_id: k for k in registry.list_keys()}
    assert listed[record.key_id].revoked and len(listed) == 2
    assert [k.key_id for k in registry.list_keys(include_revoked=False)] != [record.key_id]
    assert len(registry.list_keys(account_id="acct-1", include_revoked=False)) == 1


def test_key_org_defaults_to_the_account_org_and_conflicts_are_refused(registry: SqlAccountRegistry) -> None:
    registry.create_key("acct-1", "org-1")
    _, second = registry.create_key("acct-1")
    assert second.org_id == "org-1"
    with pytest.raises(ValueError, match="belongs to org"):
        registry.create_key("acct-1", "org-2")
    with pytest.raises(ValueError):
        registry.create_key("")


def test_accounts_round_trip_and_payment_is_hashed(registry: SqlAccountRegistry) -> None:
    info = AccountInfo(
        account_id="a1",
        org_id="o1",
        created_at=1_700_000_000.5,
        country="DE",
        payment_fingerprint="4242424242424242",
        email_domain="example.org",
        verified=True,
        signup_ip="1.2.3.4",
        metadata={"plan": "pro"},
    )
    registry.upsert_account(info)
    back = registry.get_account("a1")
    assert back is not None and back.payment_fingerprint is not None
    assert back.payment_fingerprint.startswith("pf1:") and "4242" not in back.payment_fingerprint
    assert (back.account_id, back.org_id, back.created_at, back.country, back.email_domain) == (
        "a1",
        "o1",
        1_700_000_000.5,
        "DE",
        "example.org",
    )
    assert back.verified is True and back.signup_ip == "1.2.3.4" and back.metadata == {"plan": "pro"}
    registry.upsert_account(back)  # re-saving never double-hashes
    assert registry.get_account("a1") == back
    registry.upsert_account(AccountInfo(account_id="a2", payment_fingerprint="4242424242424242"))
    assert registry.get_account("a2").payment_fingerprint == back.payment_fingerprint  # type: ignore[union-attr]


def test_update_account_changes_only_what_is_given(registry: SqlAccountRegistry) -> None:
    registry.update_account("a1", country="FR", metadata={"a": "1"})
    registry.update_account("a1", verified=True, metadata={"b": "2"})
    info = registry.get_account("a1")
    assert (
        info is not None and info.country == "FR" and info.verified and info.metadata == {"a": "1", "b": "2"}
    )
    assert [a.account_id for a in registry.list_accounts()] == ["a1"]
    registry.update_account("a2", org_id="o9")
    assert [a.account_id for a in registry.list_accounts(org_id="o9")] == ["a2"]


def test_orgs_round_trip(registry: SqlAccountRegistry) -> None:
    org = OrgInfo(
        org_id="o1", name="Partner", created_at=5.0, verified=True, allowlisted=True, metadata={"k": "v"}
    )
    registry.upsert_org(org)
    assert registry.get_org("o1") == org
    registry.update_org("o1", allowlisted=False)
    assert registry.get_org("o1").allowlisted is False  # type: ignore[union-attr]
    assert [o.org_id for o in registry.list_orgs()] == ["o1"]


def test_secrets_and_payment_numbers_never_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dg.db"
    registry = SqliteAccountRegistry(path, pepper=PEPPER)
    raws = [registry.create_key(f"acct-{i}", "org")[0] for i in range(5)]
    registry.update_account("acct-0", payment_fingerprint="5555444433332222")
    registry.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # db, -wal and -shm
    for raw in raws:
        key_id, secret = parse_key(raw)  # type: ignore[misc]
        assert key_id.encode() in blob  # the public id is stored ...
        assert secret.encode() not in blob and raw.encode() not in blob  # ... the secret is not
    assert b"5555444433332222" not in blob


def test_a_different_pepper_is_refused_clearly(tmp_path: Path) -> None:
    with SqliteAccountRegistry(tmp_path / "dg.db", pepper=b"one") as first:
        first.create_key("a1", "o1")
    other = SqliteAccountRegistry(tmp_path / "dg.db", pepper=b"two")
    assert [a.account_id for a in other.list_accounts()] == ["a1"]  # metadata reads need no pepper
    for hashing in (
        lambda: other.create_key("a2"),
        lambda: other.all_keys(),
        lambda: other.verify("dg-" + "0" * 12 + "-" + "0" * 48),
        lambda: other.update_account("a1", payment_fingerprint="card"),
    ):
        with pytest.raises(PepperMismatch, match="DG_KEY_PEPPER"):
            hashing()
    other.close()


def test_shares_the_file_with_the_event_log(tmp_path: Path) -> None:
    from distillguard.events.open import open_store
    from distillguard.events.schema import RequestEvent

    store = open_store(tmp_path / "dg.db")
    store.write_many([RequestEvent(request_id="r1", ts_start=1.0)])
    registry = open_registry(tmp_path / "dg.db", pepper=PEPPER)
    raw, _ = registry.create_key("acct-1")
    assert registry.verify(raw) is not None and store.count() == 1
    registry.close()
    store.close()
