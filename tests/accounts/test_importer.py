from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillguard.accounts.importer import ImportFileError, load_accounts, load_orgs, parse_bool, parse_time
from distillguard.events.schema import AccountInfo, OrgInfo


def test_csv_with_aliases_dates_booleans_and_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "account_id,org,payment,verified,created_at,country,plan\n"
        "a1,o1,card-1,yes,2025-01-02T00:00:00Z,DE,pro\n"
        "a2,,,0,1700000000,,\n",
        encoding="utf-8",
    )
    assert list(load_accounts(path)) == [
        AccountInfo(
            account_id="a1",
            org_id="o1",
            payment_fingerprint="card-1",
            verified=True,
            created_at=1735776000.0,
            country="DE",
            metadata={"plan": "pro"},
        ),
        AccountInfo(account_id="a2", created_at=1_700_000_000.0),
    ]


def test_json_list_jsonl_and_sections(tmp_path: Path) -> None:
    rows = [{"account_id": "a1", "verified": True, "metadata": {"x": "1"}}, {"account_id": "a2"}]
    (tmp_path / "l.json").write_text(json.dumps(rows))
    (tmp_path / "l.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    both = {"accounts": rows, "orgs": [{"org_id": "o1", "allowlisted": "true", "name": "P"}]}
    (tmp_path / "b.json").write_text(json.dumps(both))
    expected = [
        AccountInfo(account_id="a1", verified=True, metadata={"x": "1"}),
        AccountInfo(account_id="a2"),
    ]
    assert list(load_accounts(tmp_path / "l.json")) == expected
    assert list(load_accounts(tmp_path / "l.jsonl")) == expected
    assert list(load_accounts(tmp_path / "b.json")) == expected
    assert list(load_orgs(tmp_path / "b.json")) == [OrgInfo(org_id="o1", name="P", allowlisted=True)]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.csv", "account_id,verified\na1,maybe\n", r"a.csv:2: .*boolean"),
        ("a.csv", "account_id,created_at\na1,yesterday\n", r"a.csv:2: "),
        ("a.csv", "account_id,org_id\n,o1\n", r"a.csv:2: .*account_id"),
        ("a.jsonl", '{"account_id": "a1"}\n[1]\n', r"a.jsonl:2: expected an object"),
        ("a.json", "{not json", r"invalid JSON"),
        ("a.json", '{"accounts": {"a": 1}}', r"expected a list"),
        ("a.json", '[{"account_id": 5}]', r"a.json\[0\]: Expected `str`"),
        ("a.txt", "", r"expected .json"),
    ],
)
def test_bad_rows_name_the_file_and_row(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ImportFileError, match=message):
        list(load_accounts(path))


def test_parsers() -> None:
    assert parse_time("1970-01-01T00:01:00") == 60.0 and parse_time(5) == 5.0 and parse_time("7.5") == 7.5
    assert parse_bool("Yes") and not parse_bool("f")
