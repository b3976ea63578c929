"""Console users, sessions and CSRF tokens: separate from API keys on purpose.

Passwords are hashed with stdlib scrypt. A session is a random token; the browser holds it
signed (HMAC with a per-database secret) in an HttpOnly, SameSite=Strict cookie, and the
database holds only its SHA-256, so a leaked state file yields no usable session. Each
session carries its own CSRF token, checked on every POST.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from typing import Literal

import msgspec

from distillguard.console.state import StateDB

Role = Literal["admin", "analyst", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "analyst", "viewer")
SESSION_TTL_S = 12 * 3600.0
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 8

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS console_admins (
        username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
        org_id TEXT, created_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS console_sessions (
        token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,
        created_at REAL NOT NULL, expires_at REAL NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS console_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


class AuthError(ValueError):
    pass


class User(msgspec.Struct, kw_only=True, frozen=True):
    username: str
    role: Role
    org_id: str | None = None  # a scoped user sees this org only
    created_at: float = 0.0

    @property
    def can_act(self) -> bool:
        return self.role in ("admin", "analyst")

    def sees_org(self, org_id: str) -> bool:
        return self.org_id is None or self.org_id == org_id


class Session(msgspec.Struct, kw_only=True, frozen=True):
    user: User
    csrf: str
    expires_at: float


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# A hash of a random password: login for an unknown user costs the same scrypt as for a known one.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Auth:
    """Admin users and their sessions in the console state database."""

    def __init__(self, db: StateDB, *, session_ttl_s: float = SESSION_TTL_S) -> None:
        self.db = db
        self.session_ttl_s = session_ttl_s
        db.script(_SCHEMA)
        self._secret = self._load_secret()

    def _load_secret(self) -> bytes:
        with self.db.tx() as cur:
            row = cur.execute("SELECT value FROM console_meta WHERE name = 'cookie_secret'").fetchone()
            if row is None:
                value = secrets.token_hex(32)
                cur.execute("INSERT INTO console_meta (name, value) VALUES ('cookie_secret', ?)", (value,))
                return bytes.fromhex(value)
            return bytes.fromhex(row[0])

    # --- users ------------------------------------------------------------------------
    def create_user(
        self, username: str, password: str, *, role: str = "admin", org_id: str | None = None
    ) -> User:
        if not _USERNAME.match(username):
            raise AuthError("username: 1-64 letters, digits, or _ . @ -")
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AuthError(f"password too short (at least {MIN_PASSWORD} characters)")
        if role == "admin" and org_id:
            raise AuthError("an admin sees every org; scope an analyst or viewer instead")
        user = User(username=username, role=role, org_id=org_id or None, created_at=time.time())
        with self.db.tx() as cur:
            if cur.execute("SELECT 1 FROM console_admins WHERE username = ?", (username,)).fetchone():
                raise AuthError(f"user {username!r} exists")
            cur.execute(
                "INSERT INTO console_admins (username, password_hash, role, org_id, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (username, hash_password(password), user.role, user.org_id, user.created_at),
            )
        return user

    def bootstrap_admin(self, username: str = "admin") -> str:
        """Create (or reset) an admin with a fresh random password and return the password:
        for `distillguard demo`, which prints it next to the console URL."""
        password = secrets.token_urlsafe(12)
        if self.get_user(username) is None:
            self.create_user(username, password, role="admin")
        else:
            self.set_password(username, password)
        return password

    def set_password(self, username: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AuthError(f"password too short (at least {MIN_PASSWORD} characters)")
        if not self.db.execute(
            "UPDATE console_admins SET password_hash = ? WHERE username = ?",
            (hash_password(password), username),
        ):
            raise AuthError(f"no user {username!r}")
        self.db.execute("DELETE FROM console_sessions WHERE username = ?", (username,))

    def delete_user(self, username: str) -> bool:
        self.db.execute("DELETE FROM console_sessions WHERE username = ?", (username,))
        return self.db.execute("DELETE FROM console_admins WHERE username = ?", (username,)) > 0

    def get_user(self, username: str) -> User | None:
        rows = self.db.query(
            "SELECT username, role, org_id, created_at FROM console_admins WHERE username = ?", (username,)
        )
        return _user(rows[0]) if rows else None

    def list_users(self) -> list[User]:
        rows = self.db.query(
            "SELECT username, role, org_id, created_at FROM console_admins ORDER BY username"
        )
        return [_user(r) for r in rows]

    def authenticate(self, username: str, password: str) -> User | None:
        rows = self.db.query("SELECT password_hash FROM console_admins WHERE username = ?", (username,))
        if not rows:
            verify_password(password, _DUMMY_HASH)
            return None
        return self.get_user(username) if verify_password(password, rows[0][0]) else None

    # --- sessions ---------------------------------------------------------------------
    def sign(self, token: str) -> str:
        mac = hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{token}.{mac}"

    def unsign(self, cookie: str) -> str | None:
        token, _, _mac = cookie.rpartition(".")
        if not token or not hmac.compare_digest(self.sign(token), cookie):
            return None
        return token

    def start_session(self, user: User, *, now: float | None = None) -> tuple[str, Session]:
        """A new session; returns the signed cookie value and the session."""
        now = time.time() if now is None else now
        token = secrets.token_urlsafe(32)
        session = Session(user=user, csrf=secrets.token_urlsafe(32), expires_at=now + self.session_ttl_s)
        self.db.execute("DELETE FROM console_sessions WHERE expires_at < ?", (now,))
        self.db.execute(
            "INSERT INTO console_sessions (token_hash, username, csrf, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (_sha256(token), user.username, session.csrf, now, session.expires_at),
        )
        return self.sign(token), session

    def session(self, cookie: str | None, *, now: float | None = None) -> Session | None:
        if not cookie:
            return None
        token = self.unsign(cookie)
        if token is None:
            return None
        now = time.time() if now is None else now
        rows = self.db.query(
            "SELECT s.csrf, s.expires_at, a.username, a.role, a.org_id, a.created_at "
            "FROM console_sessions s JOIN console_admins a ON a.username = s.username "
            "WHERE s.token_hash = ?",
            (_sha256(token),),
        )
        if not rows or rows[0][1] < now:
            return None
        csrf, expires_at, *user_row = rows[0]
        return Session(user=_user(tuple(user_row)), csrf=csrf, expires_at=expires_at)

    def end_session(self, cookie: str | None) -> None:
        token = self.unsign(cookie) if cookie else None
        if token is not None:
            self.db.execute("DELETE FROM console_sessions WHERE token_hash = ?", (_sha256(token),))


def check_csrf(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def _user(row: tuple[object, ...]) -> User:
    username, role, org_id, created_at = row
    return User(username=str(username), role=role, org_id=org_id or None, created_at=float(created_at))  # type: ignore[arg-type]
