from __future__ import annotations

import uuid

import pytest

from distillguard.detect.api import Tier, TierEntry
from distillguard.detect.tierstore import MemoryTierStore, PostgresTierStore, RedisTierStore, open_tier_store


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def entry(tier: Tier, campaign: str | None = None) -> TierEntry:
    return TierEntry(tier=tier, reasons=["cot_share"], campaign_id=campaign, risk=0.7, updated_at=1.0)


def test_memory_publish_and_replace() -> None:
    store = MemoryTierStore()
    assert store.get("a") is None
    store.publish({"a": entry(Tier.SUSPECT), "b": entry(Tier.WATCH)})
    store.publish({"a": entry(Tier.LIKELY, "camp-1")})
    got = store.get("a")
    assert got is not None and got.tier == Tier.LIKELY and got.campaign_id == "camp-1"
    assert store.get("b") is not None
    store.replace({"c": entry(Tier.CONFIRMED)})
    assert store.get("a") is None and store.get("c") is not None


def test_open_tier_store_rejects_unknown_scheme() -> None:
    assert isinstance(open_tier_store(None), MemoryTierStore)
    with pytest.raises(ValueError, match="unknown tier store"):
        open_tier_store("ftp://x")


def _redis_or_skip() -> RedisTierStore:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=0.5)
    try:
        client.ping()
    except Exception:
        pytest.skip("redis not reachable")
    return RedisTierStore(client=client, key=f"dg:test:{uuid.uuid4().hex}", clock=FakeClock())


@pytest.mark.redis
def test_redis_reader_caches_and_follows_version() -> None:
    writer = _redis_or_skip()
    reader = RedisTierStore(client=writer.redis, key=writer.key, refresh_s=1.0, clock=FakeClock())
    clock = reader._cache.clock
    try:
        writer.publish({"a": entry(Tier.SUSPECT)})
        got = reader.get("a")
        assert got is not None and got.tier == Tier.SUSPECT
        writer.publish({"a": entry(Tier.CONFIRMED)})
        # within refresh_s the reader serves its local copy: no round trip per request
        cached = reader.get("a")
        assert cached is not None and cached.tier == Tier.SUSPECT
        clock.t += 1.5  # type: ignore[attr-defined]
        fresh = reader.get("a")
        assert fresh is not None and fresh.tier == Tier.CONFIRMED
        writer.replace({"b": entry(Tier.LIKELY)})
        clock.t += 1.5  # type: ignore[attr-defined]
        assert reader.get("a") is None
        assert reader.get("b") is not None
        writer.replace({})
        clock.t += 1.5  # type: ignore[attr-defined]
        assert reader.get("b") is None
    finally:
        writer.clear()


def _postgres_or_skip(table: str) -> PostgresTierStore:
    pytest.importorskip("psycopg")
    try:
        return PostgresTierStore("postgresql://127.0.0.1:5432/test", table=table, clock=FakeClock())
    except Exception as exc:
        pytest.skip(f"postgres not reachable: {exc}")


@pytest.mark.postgres
def test_postgres_reader_caches_and_follows_version() -> None:
    table = f"dg_tiers_test_{uuid.uuid4().hex[:8]}"
    writer = _postgres_or_skip(table)
    reader = PostgresTierStore("postgresql://127.0.0.1:5432/test", table=table, clock=FakeClock())
    clock = reader._cache.clock
    try:
        writer.publish({"a": entry(Tier.SUSPECT, "camp-9")})
        got = reader.get("a")
        assert got is not None and got.tier == Tier.SUSPECT and got.campaign_id == "camp-9"
        writer.publish({"a": entry(Tier.LIKELY)})
        cached = reader.get("a")
        assert cached is not None and cached.tier == Tier.SUSPECT
        clock.t += 2  # type: ignore[attr-defined]
        fresh = reader.get("a")
        assert fresh is not None and fresh.tier == Tier.LIKELY
        writer.replace({"z": entry(Tier.WATCH)})
        clock.t += 2  # type: ignore[attr-defined]
        assert reader.get("a") is None and reader.get("z") is not None
    finally:
        writer.drop()
        writer.close()
        reader.close()
