from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.console.labels import LabelStore
from distillguard.console.state import StateDB
from distillguard.detect.calibrate import read_labels


@pytest.fixture()
def labels(tmp_path: Path) -> LabelStore:
    return LabelStore(StateDB(tmp_path / "state.db"))


def test_latest_label_wins_and_records_who_and_when(labels: LabelStore) -> None:
    labels.set_labels(["a1", "a2"], "attack", by="ana", campaign_id="camp-1", now=100.0)
    labels.set_labels(["a2"], "legit", by="bob", now=200.0)
    got = labels.labels()
    assert got["a1"].label == "attack" and got["a1"].by == "ana" and got["a1"].campaign_id == "camp-1"
    assert got["a2"].label == "legit" and got["a2"].by == "bob" and got["a2"].at == 200.0
    assert labels.get("nobody") is None
    with pytest.raises(ValueError):
        labels.set_labels(["a3"], "maybe", by="ana")  # type: ignore[arg-type]


def test_export_is_what_calibrate_reads(labels: LabelStore, tmp_path: Path) -> None:
    labels.set_labels(["a1", "a2"], "attack", by="ana")
    labels.set_labels(["a3"], "legit", by="ana")
    out = tmp_path / "labels.jsonl"
    assert labels.export_labels(out) == 3
    assert read_labels(out) == {"a1": "attack", "a2": "attack", "a3": "legit"}


def test_audit_log_newest_first_and_filters(labels: LabelStore) -> None:
    labels.audit("ana", "ban", "account", "a1", org_id="org_a", now=1.0)
    labels.audit("ana", "confirm", "account", "b1", org_id="org_b", now=2.0)
    labels.audit("admin", "login", "user", "admin", now=3.0)
    entries = labels.audit_log()
    assert [e.action for e in entries] == ["login", "confirm", "ban"]
    assert [e.subject_id for e in labels.audit_log(org_id="org_a")] == ["a1"]
    assert [e.subject_id for e in labels.audit_log(subject_ids=["b1"])] == ["b1"]
    assert labels.audit_log(subject_ids=[]) == []
    assert "login" not in [e.action for e in labels.audit_log(exclude_actions=("login",))]
