from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillguard.events import io
from distillguard.events.schema import AccountInfo, OrgInfo, RequestEvent

from .factory import full_event


def _events(n: int) -> list[RequestEvent]:
    return [
        full_event(i) if i % 2 else RequestEvent(request_id=f"bare-{i}", ts_start=float(i)) for i in range(n)
    ]


@pytest.mark.parametrize("name", ["e.jsonl", "e.jsonl.gz", "e.parquet"])
def test_events_round_trip_every_field(tmp_path: Path, name: str) -> None:
    events = _events(25)
    assert io.write_events(tmp_path / name, iter(events)) == 25
    assert list(io.read_events(tmp_path / name)) == events


def test_parquet_streams_in_row_groups_with_a_typed_schema(tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    io.write_parquet(path, iter(_events(2500)), rows_per_group=1000)
    meta = pq.ParquetFile(path)
    assert meta.num_row_groups == 3 and meta.metadata.num_rows == 2500
    schema = meta.schema_arrow
    assert schema.field("minhash").type.value_type == pa.uint64()
    assert schema.field("reasons").type.value_type == pa.string()
    assert str(schema.field("ts_start").type) == "double" and str(schema.field("stream").type) == "bool"
    reader = io.read_parquet(path, RequestEvent, batch_rows=100)
    assert next(reader).request_id == "bare-0"  # lazy: the first event without reading the rest


def test_parquet_from_an_older_schema_takes_defaults(tmp_path: Path) -> None:
    path = tmp_path / "old.parquet"
    pq.write_table(pa.table({"request_id": ["a"], "ts_start": [1.0], "not_a_field": [1]}), path)
    assert list(io.read_events(path)) == [RequestEvent(request_id="a", ts_start=1.0)]


def test_empty_files(tmp_path: Path) -> None:
    for name in ("e.jsonl", "e.parquet"):
        assert io.write_events(tmp_path / name, []) == 0
        assert list(io.read_events(tmp_path / name)) == []


def test_bad_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"request_id": "a", "ts_start": 1}\n\n{"request_id": "b"}\n')
    reader = io.read_events(path)
    with pytest.raises(io.EventFileError, match=r"bad.jsonl:3: .*ts_start"):
        list(reader)


def test_unknown_extension_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(io.EventFileError, match=r"expected \.jsonl"):
        io.write_events(tmp_path / "e.csv", [])


def test_jsonl_append(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    io.write_events_jsonl(path, [full_event(1)])
    io.write_events_jsonl(path, [full_event(2)], append=True)
    assert list(io.read_events_jsonl(path)) == [full_event(1), full_event(2)]


def test_accounts_and_orgs_jsonl_and_parquet(tmp_path: Path) -> None:
    accounts = [
        AccountInfo(
            account_id="a1",
            org_id="o1",
            created_at=1.5,
            country="DE",
            payment_fingerprint="pf:1",
            email_domain="x.org",
            verified=True,
            signup_ip="1.2.3.4",
            metadata={"tier": "pro"},
        ),
        AccountInfo(account_id="a2"),
    ]
    orgs = [
        OrgInfo(org_id="o1", name="Org", created_at=2.0, verified=True, allowlisted=True, metadata={"k": "v"})
    ]
    io.write_accounts_jsonl(tmp_path / "a.jsonl", accounts)
    io.write_orgs_jsonl(tmp_path / "o.jsonl", orgs)
    assert list(io.read_accounts_jsonl(tmp_path / "a.jsonl")) == accounts
    assert list(io.read_orgs_jsonl(tmp_path / "o.jsonl")) == orgs
    io.write_parquet(tmp_path / "a.parquet", accounts, AccountInfo)
    assert list(io.read_parquet(tmp_path / "a.parquet", AccountInfo)) == accounts
