"""Accounts, orgs and API keys in SQL: SQLite (embedded default) or PostgreSQL.

Four tables: `dg_orgs`, `dg_accounts`, `dg_keys` (hash only) and `dg_meta` (a check value
that catches a changed `DG_KEY_PEPPER` instead of silently failing every key). In the
embedded default they live in the same SQLite file as the event log (`distillguard.db`):
one file to back up, and `--db` means the same thing for every command.

The two backends differ only in placeholders, boolean storage and how to connect; all SQL
below is common to both (upserts are `INSERT ... ON CONFLICT ... DO UPDATE`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import msgspec

from distillguard.accounts.keys import (
    CachedKeyResolver,
    KeyRecord,
    generate_key,
    hash_payment,
    hash_secret,
    parse_key,
    pepper_from_env,
    verify_secret,
)
from distillguard.accounts.principal import Principal
from distillguard.events.schema import AccountInfo, OrgInfo

_PEPPER_CHECK_INPUT = "distillguard-pepper-check"

_ACCOUNT_COLS = (
    "account_id",
    "org_id",
    "created_at",
    "country",
    "payment_fingerprint",
    "email_domain",
    "verified",
    "signup_ip",
    "metadata",
)
_ORG_COLS = ("org_id", "name", "created_at", "verified", "allowlisted", "metadata")
_KEY_COLS = ("key_id", "secret_hash", "account_id", "org_id", "name", "created_at", "revoked_at")

_json_encode = msgspec.json.Encoder().encode
_metadata_decode = msgspec.json.Decoder(dict[str, str]).decode


class PepperMismatch(RuntimeError):
    """The database was created with a different DG_KEY_PEPPER: every key would fail."""


class SqlAccountRegistry:
    """Accounts, orgs and keys over one DB-API connection (serialised by a lock).

    Use `SqliteAccountRegistry(path)` or `PostgresAccountRegistry(url)`; `open_registry`
    picks one from a URL or path.
    """

    dialect: Literal["sqlite", "postgres"]

    def __init__(self, conn: Any, *, pepper: bytes | None, prefix: str = "") -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.pepper = pepper_from_env() if pepper is None else pepper
        self._t = {name: f"{prefix}{name}" for name in ("dg_orgs", "dg_accounts", "dg_keys", "dg_meta")}
        self._create_schema()
        self._pepper_checked = False

    # --- plumbing -------------------------------------------------------------------------

    @property
    def _ph(self) -> str:
        return "?" if self.dialect == "sqlite" else "%s"

    def _sql(self, template: str) -> str:
        """Fill `{dg_keys}`-style table names and turn `?` into the dialect's placeholder."""
        text = template.format(**self._t)
        return text if self.dialect == "sqlite" else text.replace("?", "%s")

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            self._ensure_connected()
            cur = self._conn.cursor()
            try:
                yield cur
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise
            finally:
                cur.close()

    def _query(self, template: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._tx() as cur:
            cur.execute(self._sql(template), list(params))
            return list(cur.fetchall()) if cur.description is not None else []

    def _bool(self, value: bool) -> Any:
        return int(value) if self.dialect == "sqlite" else value

    def _create_schema(self) -> None:
        real = "REAL" if self.dialect == "sqlite" else "DOUBLE PRECISION"
        boolean = "INTEGER" if self.dialect == "sqlite" else "BOOLEAN"
        false = "0" if self.dialect == "sqlite" else "FALSE"
        statements = [
            f"""CREATE TABLE IF NOT EXISTS {{dg_orgs}} (
                org_id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', created_at {real} NOT NULL DEFAULT 0,
                verified {boolean} NOT NULL DEFAULT {false}, allowlisted {boolean} NOT NULL DEFAULT {false},
                metadata TEXT NOT NULL DEFAULT '{{{{}}}}')""",
            f"""CREATE TABLE IF NOT EXISTS {{dg_accounts}} (
                account_id TEXT PRIMARY KEY, org_id TEXT NOT NULL DEFAULT '',
                created_at {real} NOT NULL DEFAULT 0, country TEXT, payment_fingerprint TEXT,
                email_domain TEXT, verified {boolean} NOT NULL DEFAULT {false}, signup_ip TEXT,
                metadata TEXT NOT NULL DEFAULT '{{{{}}}}')""",
            f"""CREATE TABLE IF NOT EXISTS {{dg_keys}} (
                key_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, account_id TEXT NOT NULL,
                org_id TEXT NOT NULL DEFAULT '', name TEXT NOT NULL DEFAULT '',
                created_at {real} NOT NULL, revoked_at {real})""",
            "CREATE TABLE IF NOT EXISTS {dg_meta} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS {dg_keys}_account ON {dg_keys} (account_id)",
            "CREATE INDEX IF NOT EXISTS {dg_accounts}_org ON {dg_accounts} (org_id)",
            "CREATE INDEX IF NOT EXISTS {dg_accounts}_payment ON {dg_accounts} (payment_fingerprint)",
        ]
        with self._tx() as cur:
            self._before_schema(cur)
            for statement in statements:
                cur.execute(self._sql(statement))

    def _ensure_connected(self) -> None:
        """Hook: PostgreSQL reconnects after a server restart."""

    def _before_schema(self, cur: Any) -> None:
        """Hook: PostgreSQL creates its schema and serialises concurrent creators here."""

    def check_pepper(self) -> None:
        """Raise PepperMismatch if this database was set up with another pepper.

        Runs lazily, before the first operation that hashes (keys, payment values), so that
        reading account metadata (console, detector) works without the pepper."""
        if self._pepper_checked:
            return
        check = hash_secret(_PEPPER_CHECK_INPUT, self.pepper)
        with self._tx() as cur:
            cur.execute(self._sql("SELECT value FROM {dg_meta} WHERE name = 'pepper_check'"))
            row = cur.fetchone()
            if row is None:
                cur.execute(
                    self._sql("INSERT INTO {dg_meta} (name, value) VALUES ('pepper_check', ?)"), [check]
                )
            elif row[0] != check:
                raise PepperMismatch(
                    "DG_KEY_PEPPER differs from the one this database was created with; "
                    "every stored API key and payment fingerprint would fail to match. "
                    "Set the original pepper."
                )
        self._pepper_checked = True

    # --- keys -----------------------------------------------------------------------------

    def create_key(
        self, account_id: str, org_id: str | None = None, *, name: str = ""
    ) -> tuple[str, KeyRecord]:
        """A new key for `account_id` (created if unknown). Returns the raw key, shown only now.

        `org_id` defaults to the account's org; an account belongs to one org.
        """
        if not account_id:
            raise ValueError("account_id is required")
        self.check_pepper()
        raw, key_id, secret = generate_key()
        with self._lock:
            account = self.get_account(account_id)
            if account is None:
                account = AccountInfo(account_id=account_id, org_id=org_id or "", created_at=time.time())
                self.upsert_account(account)
            elif org_id and account.org_id and account.org_id != org_id:
                raise ValueError(f"account {account_id} belongs to org {account.org_id!r}, not {org_id!r}")
            elif org_id and not account.org_id:
                self.upsert_account(msgspec.structs.replace(account, org_id=org_id))
            org = org_id or account.org_id
            if org and self.get_org(org) is None:
                self.upsert_org(OrgInfo(org_id=org, created_at=time.time()))
            record = KeyRecord(
                key_id=key_id,
                secret_hash=hash_secret(secret, self.pepper),
                account_id=account_id,
                org_id=org,
                name=name,
                created_at=time.time(),
            )
            self._query(
                "INSERT INTO {dg_keys} (" + ", ".join(_KEY_COLS) + ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                msgspec.structs.astuple(record),
            )
        return raw, record

    def get_key(self, key_id: str) -> KeyRecord | None:
        rows = self._query("SELECT " + ", ".join(_KEY_COLS) + " FROM {dg_keys} WHERE key_id = ?", [key_id])
        return _key(rows[0]) if rows else None

    def all_keys(self) -> list[KeyRecord]:
        """Every key, revoked included (the resolver must know a revoked id is revoked)."""
        self.check_pepper()
        return [_key(r) for r in self._query("SELECT " + ", ".join(_KEY_COLS) + " FROM {dg_keys}")]

    def list_keys(
        self, *, account_id: str | None = None, org_id: str | None = None, include_revoked: bool = True
    ) -> list[KeyRecord]:
        clauses, params = [], []
        if account_id is not None:
            clauses.append("account_id = ?")
            params.append(account_id)
        if org_id is not None:
            clauses.append("org_id = ?")
            params.append(org_id)
        if not include_revoked:
            clauses.append("revoked_at IS NULL")
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = "SELECT " + ", ".join(_KEY_COLS) + " FROM {dg_keys}" + where + " ORDER BY created_at, key_id"
        return [_key(r) for r in self._query(sql, params)]

    def revoke_key(self, key_id: str) -> bool:
        """Revoke; False when the key is unknown or already revoked."""
        with self._tx() as cur:
            cur.execute(
                self._sql("UPDATE {dg_keys} SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL"),
                [time.time(), key_id],
            )
            return bool(cur.rowcount)

    def verify(self, raw_key: str) -> Principal | None:
        """Uncached check against the database (CLI, tests). The gateway uses CachedKeyResolver."""
        parsed = parse_key(raw_key)
        if parsed is None:
            return None
        self.check_pepper()
        record = self.get_key(parsed[0])
        if record is None or record.revoked or not verify_secret(parsed[1], record.secret_hash, self.pepper):
            return None
        return record.principal

    # --- accounts -------------------------------------------------------------------------

    def upsert_account(self, info: AccountInfo) -> AccountInfo:
        """Insert or replace an account. A payment value is stored hashed (idempotently)."""
        if info.payment_fingerprint:
            self.check_pepper()
            info = msgspec.structs.replace(
                info, payment_fingerprint=hash_payment(info.payment_fingerprint, self.pepper)
            )
        row = [
            info.account_id,
            info.org_id,
            info.created_at,
            info.country,
            info.payment_fingerprint,
            info.email_domain,
            self._bool(info.verified),
            info.signup_ip,
            _json_encode(info.metadata).decode(),
        ]
        updates = ", ".join(f"{c} = excluded.{c}" for c in _ACCOUNT_COLS[1:])
        self._query(
            "INSERT INTO {dg_accounts} (" + ", ".join(_ACCOUNT_COLS) + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (account_id) DO UPDATE SET " + updates,
            row,
        )
        return info

    def update_account(self, account_id: str, **changes: Any) -> AccountInfo:
        """Change some fields of an account (created if unknown); `metadata` is merged."""
        with self._lock:
            current = self.get_account(account_id) or AccountInfo(
                account_id=account_id, created_at=time.time()
            )
            if "metadata" in changes:
                changes["metadata"] = {**current.metadata, **changes["metadata"]}
            return self.upsert_account(msgspec.structs.replace(current, **changes))

    def upsert_accounts(self, infos: Iterable[AccountInfo]) -> int:
        n = 0
        with self._lock:
            for info in infos:
                self.upsert_account(info)
                n += 1
        return n

    def get_account(self, account_id: str) -> AccountInfo | None:
        rows = self._query(
            "SELECT " + ", ".join(_ACCOUNT_COLS) + " FROM {dg_accounts} WHERE account_id = ?", [account_id]
        )
        return _account(rows[0]) if rows else None

    def list_accounts(self, *, org_id: str | None = None) -> list[AccountInfo]:
        sql = "SELECT " + ", ".join(_ACCOUNT_COLS) + " FROM {dg_accounts}"
        params: list[Any] = []
        if org_id is not None:
            sql += " WHERE org_id = ?"
            params.append(org_id)
        return [_account(r) for r in self._query(sql + " ORDER BY account_id", params)]

    # --- orgs -----------------------------------------------------------------------------

    def upsert_org(self, info: OrgInfo) -> OrgInfo:
        row = [
            info.org_id,
            info.name,
            info.created_at,
            self._bool(info.verified),
            self._bool(info.allowlisted),
            _json_encode(info.metadata).decode(),
        ]
        updates = ", ".join(f"{c} = excluded.{c}" for c in _ORG_COLS[1:])
        self._query(
            "INSERT INTO {dg_orgs} (" + ", ".join(_ORG_COLS) + ") VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (org_id) DO UPDATE SET " + updates,
            row,
        )
        return info

    def update_org(self, org_id: str, **changes: Any) -> OrgInfo:
        with self._lock:
            current = self.get_org(org_id) or OrgInfo(org_id=org_id, created_at=time.time())
            if "metadata" in changes:
                changes["metadata"] = {**current.metadata, **changes["metadata"]}
            return self.upsert_org(msgspec.structs.replace(current, **changes))

    def get_org(self, org_id: str) -> OrgInfo | None:
        rows = self._query("SELECT " + ", ".join(_ORG_COLS) + " FROM {dg_orgs} WHERE org_id = ?", [org_id])
        return _org(rows[0]) if rows else None

    def list_orgs(self) -> list[OrgInfo]:
        return [
            _org(r) for r in self._query("SELECT " + ", ".join(_ORG_COLS) + " FROM {dg_orgs} ORDER BY org_id")
        ]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqlAccountRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _key(row: Sequence[Any]) -> KeyRecord:
    return KeyRecord(**dict(zip(_KEY_COLS, row, strict=True)))


def _account(row: Sequence[Any]) -> AccountInfo:
    values = dict(zip(_ACCOUNT_COLS, row, strict=True))
    values["verified"] = bool(values["verified"])
    values["metadata"] = _metadata_decode(values["metadata"])
    return AccountInfo(**values)


def _org(row: Sequence[Any]) -> OrgInfo:
    values = dict(zip(_ORG_COLS, row, strict=True))
    values["verified"] = bool(values["verified"])
    values["allowlisted"] = bool(values["allowlisted"])
    values["metadata"] = _metadata_decode(values["metadata"])
    return OrgInfo(**values)


class SqliteAccountRegistry(SqlAccountRegistry):
    """The embedded default; shares the event log's file unless told otherwise."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, *, pepper: bytes | None = None) -> None:
        self.path = path
        if str(path) != ":memory:":
            Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA busy_timeout = 30000")
        super().__init__(conn, pepper=pepper)


class PostgresAccountRegistry(SqlAccountRegistry):
    """Shared by gateway replicas; tables live in `schema` (created if missing)."""

    dialect = "postgres"

    def __init__(self, url: str, *, schema: str = "public", pepper: bytes | None = None) -> None:
        import psycopg

        if not schema.isidentifier():
            raise ValueError(f"bad schema name {schema!r}")
        self.schema = schema
        self._url = url
        conn = psycopg.connect(url, connect_timeout=10)
        super().__init__(conn, pepper=pepper, prefix=f'"{schema}".')

    def _ensure_connected(self) -> None:
        import psycopg

        if self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self._url, connect_timeout=10)

    def _sql(self, template: str) -> str:
        # Index names may not be schema-qualified: "schema".dg_keys_account -> dg_keys_account.
        text = super()._sql(template)
        return text.replace(f'INDEX IF NOT EXISTS "{self.schema}".', "INDEX IF NOT EXISTS ")

    def _before_schema(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"distillguard:registry:{self.schema}"])
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')


def open_registry(target: str | Path | None = None, *, pepper: bytes | None = None) -> SqlAccountRegistry:
    """A registry for a `--db` value: PostgreSQL URL (with optional `?schema=`), `sqlite:///` URL
    or plain path. Default: `DG_DATABASE` or ./distillguard.db."""
    from distillguard.events.open import default_database, is_postgres_url, split_postgres_url, sqlite_path

    target = str(target) if target is not None else default_database()
    if is_postgres_url(target):
        url, options = split_postgres_url(target)
        return PostgresAccountRegistry(url, schema=options.get("schema", "public"), pepper=pepper)
    return SqliteAccountRegistry(sqlite_path(target), pepper=pepper)


def open_key_resolver(settings: Any) -> CachedKeyResolver:
    """The gateway's key resolver: a started CachedKeyResolver over `settings.database_url`.

    Any failure to open it is a ConfigError (one line for `serve`, not a traceback)."""
    from distillguard.config import ConfigError

    try:
        return CachedKeyResolver(open_registry(settings.database_url)).start()
    except Exception as exc:
        raise ConfigError(f"cannot open the key registry at {settings.database_url}: {exc}") from exc
