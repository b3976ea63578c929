from __future__ import annotations

import time

import pytest

from distillguard.accounts.keys import (
    CachedKeyResolver,
    KeyRecord,
    generate_key,
    hash_payment,
    hash_secret,
    parse_key,
    verify_secret,
)
from distillguard.accounts.principal import Principal
from distillguard.accounts.registry import SqlAccountRegistry


def test_key_format_and_parsing() -> None:
    raw, key_id, secret = generate_key()
    assert raw == f"dg-{key_id}-{secret}" and len(key_id) == 12 and len(secret) == 48
    assert parse_key(raw) == (key_id, secret)
    assert generate_key()[0] != raw
    for bad in ["", raw + "0", raw[:-1], raw.upper(), raw.replace("dg-", "sk-"), "dg-" + "x" * 61]:
        assert parse_key(bad) is None, bad


def test_secret_hash_depends_on_pepper_and_verifies() -> None:
    assert hash_secret("s", b"a") != hash_secret("s", b"b")
    assert verify_secret("s", hash_secret("s", b"a"), b"a") and not verify_secret(
        "t", hash_secret("s", b"a"), b"a"
    )


def test_payment_hash_is_stable_idempotent_and_opaque() -> None:
    h = hash_payment("4242 4242 4242 4242", b"p")
    assert h == hash_payment(" 4242 4242 4242 4242 ", b"p") and hash_payment(h, b"p") == h
    assert "4242" not in h and h != hash_payment("4242 4242 4242 4242", b"q")


class CountingSource:
    """A registry stand-in that counts database calls."""

    def __init__(self, pepper: bytes = b"p") -> None:
        self.pepper = pepper
        self.records: dict[str, KeyRecord] = {}
        self.get_calls = 0
        self.all_calls = 0

    def add(self, account: str, revoked: bool = False) -> str:
        raw, key_id, secret = generate_key()
        self.records[key_id] = KeyRecord(
            key_id=key_id,
            secret_hash=hash_secret(secret, self.pepper),
            account_id=account,
            org_id="o",
            revoked_at=1.0 if revoked else None,
        )
        return raw

    def all_keys(self) -> list[KeyRecord]:
        self.all_calls += 1
        return list(self.records.values())

    def get_key(self, key_id: str) -> KeyRecord | None:
        self.get_calls += 1
        return self.records.get(key_id)


def test_resolves_from_memory_without_database_calls() -> None:
    source = CountingSource()
    raw = source.add("acct-1")
    revoked = source.add("acct-2", revoked=True)
    resolver = CachedKeyResolver(source)
    for _ in range(1000):
        assert resolver.resolve(raw) == Principal(key_id=raw[3:15], account_id="acct-1", org_id="o")
        assert resolver.resolve(revoked) is None
    assert source.get_calls == 0 and resolver.stats.hits == 1000 and resolver.stats.revoked == 1000


def test_a_reload_keeps_verified_keys_whose_record_did_not_change(monkeypatch: pytest.MonkeyPatch) -> None:
    import distillguard.accounts.keys as keys_module

    source = CountingSource()
    steady, rotated, revoked = source.add("a"), source.add("b"), source.add("c")
    resolver = CachedKeyResolver(source)
    for raw in (steady, rotated, revoked):
        assert resolver.resolve(raw) is not None
    rotated_id, revoked_id = rotated[3:15], revoked[3:15]
    source.records[rotated_id] = KeyRecord(
        key_id=rotated_id, secret_hash=hash_secret("other", source.pepper), account_id="b", org_id="o"
    )
    source.records[revoked_id].revoked_at = 5.0
    verifications = []
    real_verify = keys_module.verify_secret
    monkeypatch.setattr(keys_module, "verify_secret", lambda *a: verifications.append(a) or real_verify(*a))
    resolver.refresh()
    assert resolver.resolve(steady) is not None and verifications == []  # memo kept: no HMAC
    assert resolver.resolve(rotated) is None and len(verifications) == 1  # re-verified, fails
    assert resolver.resolve(revoked) is None


def test_a_flood_of_bad_keys_does_not_hit_the_database_per_request() -> None:
    source = CountingSource()
    now = [0.0]
    resolver = CachedKeyResolver(source, miss_lookups_per_second=5, clock=lambda: now[0])
    for _ in range(10_000):
        assert resolver.resolve(generate_key()[0]) is None  # well-formed, unknown, all different
        assert resolver.resolve("sk-garbage") is None
    assert source.get_calls <= 5
    assert resolver.stats.throttled >= 10_000 - 5 and resolver.stats.malformed == 10_000
    same = generate_key()[0]
    now[0] += 10.0  # the budget refills
    for _ in range(100):
        assert resolver.resolve(same) is None
    assert source.get_calls <= 6  # one lookup, then the negative cache answers


def test_a_key_created_elsewhere_is_found_on_miss() -> None:
    source = CountingSource()
    resolver = CachedKeyResolver(source)
    raw = source.add("new")  # created on another replica after our refresh
    assert resolver.resolve(raw) is not None and source.get_calls == 1
    assert resolver.resolve(raw) is not None and source.get_calls == 1


def test_wrong_secret_for_a_known_id_fails() -> None:
    source = CountingSource()
    raw = source.add("acct")
    resolver = CachedKeyResolver(source)
    assert resolver.resolve(raw[:-1] + ("0" if raw[-1] != "0" else "1")) is None
    assert resolver.stats.bad_secret == 1


@pytest.mark.parametrize(
    "registry", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_revocation_reaches_a_running_resolver(registry: SqlAccountRegistry) -> None:
    raw, record = registry.create_key("acct-1", "org-1")
    resolver = CachedKeyResolver(registry, refresh_interval=0.05).start()
    try:
        assert resolver.resolve(raw) is not None
        registry.revoke_key(record.key_id)  # e.g. from the CLI, another process
        deadline = time.monotonic() + 5
        while resolver.resolve(raw) is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert resolver.resolve(raw) is None
    finally:
        resolver.close()


def test_invalidate_applies_a_revocation_at_once(registry: SqlAccountRegistry) -> None:
    raw, record = registry.create_key("acct-1")
    resolver = CachedKeyResolver(registry, refresh_interval=3600)
    assert resolver.resolve(raw) is not None
    registry.revoke_key(record.key_id)
    assert resolver.resolve(raw) is not None  # cached until refresh ...
    resolver.invalidate([record.key_id])
    assert resolver.resolve(raw) is None  # ... or invalidate


def test_open_key_resolver_for_the_gateway_settings(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from distillguard.accounts.registry import open_key_resolver, open_registry
    from distillguard.config import Settings

    monkeypatch.setenv("DG_KEY_PEPPER", "gw")
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    with open_registry(url) as registry:
        raw, record = registry.create_key("acct-1", "org-1")
    resolver = open_key_resolver(Settings(database_url=url))
    try:
        assert resolver.resolve(raw) == record.principal and resolver.resolve("nope") is None
    finally:
        resolver.close()


def test_open_key_resolver_failure_is_a_config_error(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from distillguard.accounts.registry import open_key_resolver, open_registry
    from distillguard.config import ConfigError, Settings

    url = f"sqlite:///{tmp_path / 'gw.db'}"
    monkeypatch.setenv("DG_KEY_PEPPER", "one")
    with open_registry(url) as registry:
        registry.create_key("a1")
    monkeypatch.setenv("DG_KEY_PEPPER", "two")
    with pytest.raises(ConfigError, match="DG_KEY_PEPPER"):
        open_key_resolver(Settings(database_url=url))
