from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.console.auth import Auth, AuthError, check_csrf, hash_password, verify_password
from distillguard.console.state import StateDB, default_state_path


@pytest.fixture()
def auth(tmp_path: Path) -> Auth:
    return Auth(StateDB(tmp_path / "state.db"), session_ttl_s=60)


def test_password_hash_is_salted_scrypt_and_verifies() -> None:
    a, b = hash_password("hunter2hunter2"), hash_password("hunter2hunter2")
    assert a.startswith("scrypt$") and a != b
    assert verify_password("hunter2hunter2", a)
    assert not verify_password("hunter2hunter3", a)
    assert not verify_password("x", "garbage")


def test_users_are_validated(auth: Auth) -> None:
    auth.create_user("alice", "longenough", role="admin")
    with pytest.raises(AuthError, match="exists"):
        auth.create_user("alice", "longenough")
    with pytest.raises(AuthError, match="too short"):
        auth.create_user("bob", "short")
    with pytest.raises(AuthError, match="role"):
        auth.create_user("bob", "longenough", role="root")
    with pytest.raises(AuthError, match="admin sees every org"):
        auth.create_user("bob", "longenough", role="admin", org_id="org_1")
    with pytest.raises(AuthError, match="username"):
        auth.create_user("bad name!", "longenough")
    scoped = auth.create_user("vera", "longenough", role="viewer", org_id="org_1")
    assert scoped.org_id == "org_1" and not scoped.can_act
    assert [u.username for u in auth.list_users()] == ["alice", "vera"]


def test_authenticate(auth: Auth) -> None:
    auth.create_user("alice", "longenough")
    assert auth.authenticate("alice", "longenough") is not None
    assert auth.authenticate("alice", "wrong-password") is None
    assert auth.authenticate("nobody", "longenough") is None


def test_session_cookie_is_signed_and_stored_hashed(auth: Auth) -> None:
    user = auth.create_user("alice", "longenough")
    cookie, session = auth.start_session(user, now=1000.0)
    token = cookie.rsplit(".", 1)[0]
    assert auth.session(cookie, now=1001.0) == session
    # the database never holds the token itself
    rows = auth.db.query("SELECT token_hash FROM console_sessions")
    assert rows and all(token not in r[0] for r in rows)
    # a tampered signature, an unsigned token, or a made-up token: no session
    assert auth.session(token + ".0000", now=1001.0) is None
    assert auth.session(token, now=1001.0) is None
    assert auth.session(auth.sign("made-up-token"), now=1001.0) is None
    # expiry
    assert auth.session(cookie, now=1000.0 + 61) is None


def test_logout_and_password_change_end_sessions(auth: Auth) -> None:
    user = auth.create_user("alice", "longenough")
    cookie, _ = auth.start_session(user)
    auth.end_session(cookie)
    assert auth.session(cookie) is None
    cookie, _ = auth.start_session(user)
    auth.set_password("alice", "another-password")
    assert auth.session(cookie) is None
    cookie, _ = auth.start_session(user)
    assert auth.delete_user("alice")
    assert auth.session(cookie) is None


def test_cookie_secret_persists_across_restarts(tmp_path: Path) -> None:
    first = Auth(StateDB(tmp_path / "s.db"))
    user = first.create_user("alice", "longenough")
    cookie, _ = first.start_session(user)
    again = Auth(StateDB(tmp_path / "s.db"))
    assert again.session(cookie) is not None
    other = Auth(StateDB(tmp_path / "other.db"))
    assert other.unsign(cookie) is None


def test_check_csrf() -> None:
    assert check_csrf("abc", "abc")
    assert not check_csrf("abc", "abd")
    assert not check_csrf("abc", None)
    assert not check_csrf("abc", "")


def test_default_state_path() -> None:
    assert default_state_path("/var/dg/events.db") == "/var/dg/events.db"
    assert default_state_path("sqlite:////var/dg/events.db") == "/var/dg/events.db"
    assert default_state_path("postgresql://localhost/test") == "distillguard-console.db"
    assert default_state_path("out/events.jsonl") == "distillguard-console.db"


def test_bootstrap_admin_gives_a_working_fresh_password(auth: Auth) -> None:
    first = auth.bootstrap_admin("demo")
    assert auth.authenticate("demo", first) is not None
    second = auth.bootstrap_admin("demo")
    assert second != first
    assert auth.authenticate("demo", first) is None and auth.authenticate("demo", second) is not None
    assert auth.get_user("demo").role == "admin"  # type: ignore[union-attr]
