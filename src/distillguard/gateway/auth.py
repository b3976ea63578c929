"""API key -> Principal. The gateway only needs `resolve`; who stores the keys is pluggable.

The DB-backed registry (distillguard.accounts) implements the same `KeyResolver` protocol
with an in-memory cache, so the hot path never waits on a database.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from distillguard.accounts.principal import Principal


class KeyResolver(Protocol):
    def resolve(self, raw_key: str) -> Principal | None:
        """The principal for a presented key, or None when unknown or revoked. O(1), no I/O."""
        ...


def hash_key(raw_key: str) -> str:
    """Keys are only ever stored as this digest."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


class InMemoryKeyResolver:
    """Keys held as sha256 digests in a dict. For tests, demos and single-process setups."""

    def __init__(self) -> None:
        self._by_hash: dict[str, Principal] = {}

    def add(self, raw_key: str, principal: Principal) -> None:
        self._by_hash[hash_key(raw_key)] = principal

    def revoke(self, raw_key: str) -> None:
        self._by_hash.pop(hash_key(raw_key), None)

    def resolve(self, raw_key: str) -> Principal | None:
        return self._by_hash.get(hash_key(raw_key))


class AllowAnyKeyResolver:
    """Accepts every key, using a digest prefix as its identity. For `serve --no-auth`
    (a gateway in front of a private model server where keys are checked elsewhere)."""

    def resolve(self, raw_key: str) -> Principal | None:
        digest = hash_key(raw_key)[:16]
        return Principal(key_id=f"anon-{digest}", account_id=f"anon-{digest}", org_id="")


def extract_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The raw key from `Authorization: Bearer <key>` or `x-api-key: <key>`."""
    if x_api_key:
        return x_api_key.strip() or None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None
