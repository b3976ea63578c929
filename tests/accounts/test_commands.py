from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from distillguard.accounts.keys import parse_key
from distillguard.accounts.registry import open_registry
from distillguard.cli import build_app

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DG_KEY_PEPPER", "cli-pepper")
    return str(tmp_path / "dg.db")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(build_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


def test_keys_create_list_revoke(db: str) -> None:
    code, out, err = run(
        "keys", "create", "--account", "acct-1", "--org", "org-1", "--name", "ci", "--db", db
    )
    assert code == 0 and "not shown again" in err
    raw = out.strip()
    key_id, _ = parse_key(raw)  # type: ignore[misc]
    with open_registry(db, pepper=b"cli-pepper") as registry:
        principal = registry.verify(raw)
    assert principal is not None and (principal.account_id, principal.org_id) == ("acct-1", "org-1")

    code, out, _ = run("keys", "list", "--json", "--db", db)
    listed = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [k["key_id"] for k in listed] == [key_id] and "secret_hash" not in listed[0]
    assert raw not in out

    assert run("keys", "revoke", key_id, "--db", db)[0] == 0
    code, _, err = run("keys", "revoke", key_id, "--db", db)
    assert code == 1 and "already revoked" in err
    assert "does not exist" in run("keys", "revoke", "000000000000", "--db", db)[2]
    with open_registry(db, pepper=b"cli-pepper") as registry:
        assert registry.verify(raw) is None
    code, out, _ = run("keys", "list", "--active", "--json", "--db", db)
    assert code == 0 and out.strip() == ""


def test_db_defaults_to_the_environment(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DG_DATABASE", db)
    assert run("keys", "create", "--account", "a")[0] == 0
    assert Path(db).exists()


def test_accounts_set_list_and_payment_hashing(db: str) -> None:
    code, out, _ = run(
        "accounts",
        "set",
        "acct-1",
        "--org",
        "org-1",
        "--country",
        "DE",
        "--payment",
        "4111111111111111",
        "--verified",
        "--created-at",
        "2025-03-01T00:00:00Z",
        "--meta",
        "plan=pro",
        "--db",
        db,
    )
    assert code == 0, out
    assert run("accounts", "set", "acct-1", "--unverified", "--meta", "seats=3", "--db", db)[0] == 0
    code, out, _ = run("accounts", "list", "--json", "--db", db)
    (account,) = [json.loads(line) for line in out.splitlines()]
    assert account["country"] == "DE" and account["verified"] is False and account["org_id"] == "org-1"
    assert account["metadata"] == {"plan": "pro", "seats": "3"} and account["created_at"] == 1740787200.0
    assert account["payment_fingerprint"].startswith("pf1:") and "4111" not in out
    assert b"4111111111111111" not in b"".join(p.read_bytes() for p in Path(db).parent.iterdir())
    assert run("accounts", "set", "x", "--meta", "novalue", "--db", db)[0] == 2
    assert run("accounts", "list", "--db", db)[0] == 0  # the rich table renders


def test_orgs_set_and_list(db: str) -> None:
    assert run("orgs", "set", "org-1", "--name", "Partner", "--allowlisted", "--verified", "--db", db)[0] == 0
    _, out, _ = run("orgs", "list", "--json", "--db", db)
    (org,) = [json.loads(line) for line in out.splitlines()]
    assert org["allowlisted"] is True and org["verified"] is True and org["name"] == "Partner"


def test_accounts_import_json_with_orgs_and_csv(db: str, tmp_path: Path) -> None:
    data = {
        "accounts": [
            {"account_id": "a1", "org_id": "o1", "payment": "card-9"},
            {"account_id": "a2", "org_id": "o2"},
        ],
        "orgs": [{"org_id": "o1", "allowlisted": True}],
    }
    (tmp_path / "in.json").write_text(json.dumps(data))
    code, out, _ = run("accounts", "import", str(tmp_path / "in.json"), "--db", db)
    assert code == 0 and "imported 2 accounts and 1 orgs" in out
    (tmp_path / "in.csv").write_text("account_id,country\na3,FR\n")
    assert run("accounts", "import", str(tmp_path / "in.csv"), "--db", db)[0] == 0
    with open_registry(db, pepper=b"cli-pepper") as registry:
        assert [a.account_id for a in registry.list_accounts()] == ["a1", "a2", "a3"]
        assert {o.org_id: o.allowlisted for o in registry.list_orgs()} == {"o1": True, "o2": False}


def test_a_bad_import_writes_nothing_and_says_where(db: str, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("account_id,verified\na1,yes\na2,perhaps\n")
    code, _, err = run("accounts", "import", str(tmp_path / "bad.csv"), "--db", db)
    assert code == 1 and "bad.csv:3" in err
    with open_registry(db, pepper=b"cli-pepper") as registry:
        assert registry.list_accounts() == []


def test_wrong_pepper_is_one_clear_line(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("keys", "create", "--account", "a", "--db", db)[0] == 0
    monkeypatch.setenv("DG_KEY_PEPPER", "another")
    code, _, err = run("keys", "list", "--db", db)
    assert code == 2 and "DG_KEY_PEPPER" in err


@pytest.mark.postgres
def test_commands_against_postgres(pg_schema: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DG_KEY_PEPPER", "cli-pepper")
    url = f"postgresql://127.0.0.1:5432/test?schema={pg_schema}"
    code, out, _ = run("keys", "create", "--account", "a", "--org", "o", "--db", url)
    assert code == 0
    with open_registry(url, pepper=b"cli-pepper") as registry:
        assert registry.verify(out.strip()) is not None
