from __future__ import annotations

import json

from synth import Builder
from typer.testing import CliRunner

from distillguard.cli import build_app
from distillguard.detect.calibrate import calibrate, read_labels, threshold_for
from distillguard.detect.engine import DistillGuardDetector
from distillguard.detect.hunt import run_batch, write_report
from distillguard.events.schema import event_to_json


def _traffic(seed: int = 11) -> Builder:
    b = Builder(seed)
    b.chat_users(15)
    b.students(10)
    b.hydra(12, per_account_day=40, days=2, shared_payment=True)
    return b


def test_hunt_writes_flags_and_report(tmp_path) -> None:
    b = _traffic()
    result = run_batch(DistillGuardDetector(enrich=False), b.t.sorted_events(), b.t.accounts)
    flags_path, report_path = write_report(result, tmp_path, source="synthetic")
    doc = json.loads(flags_path.read_text())
    hydra = {a for a, p in b.t.label.items() if p == "hydra"}
    flagged = {a["subject_id"] for a in doc["accounts"] if a["tier"] in ("SUSPECT", "LIKELY", "CONFIRMED")}
    assert flagged == hydra
    assert doc["campaigns"][0]["reasons"]
    report = report_path.read_text()
    assert "## Campaign" in report and "Evidence:" in report


def test_hunt_cli_over_jsonl(tmp_path) -> None:
    b = _traffic(12)
    events_path = tmp_path / "events.jsonl"
    events_path.write_bytes(b"\n".join(event_to_json(e) for e in b.t.sorted_events()) + b"\n")
    accounts_path = tmp_path / "accounts.jsonl"
    accounts_path.write_text(
        "\n".join(
            json.dumps(
                {
                    "account_id": a.account_id,
                    "created_at": a.created_at,
                    "payment_fingerprint": a.payment_fingerprint,
                }
            )
            for a in b.t.accounts
        )
        + "\n"
    )
    out = tmp_path / "out"
    res = CliRunner().invoke(
        build_app(), ["hunt", str(events_path), "--out", str(out), "--accounts", str(accounts_path)]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "flags.json").read_text())
    assert doc["events"] == len(b.t.events)
    assert any(c["tier"] != "NORMAL" for c in doc["campaigns"])


def test_threshold_for_hits_target() -> None:
    risks = [i / 1000 for i in range(1000)]
    thr = threshold_for(risks, 0.01)
    assert sum(r >= thr for r in risks) <= 10
    assert thr < 0.999


def test_calibrate_on_legit_traffic_bounds_fpr(tmp_path) -> None:
    b = Builder(4)
    b.chat_users(30)
    b.students(20)
    b.batch_pipeline(per_day=800, days=2)
    result = calibrate(b.t.sorted_events(), b.t.accounts, target_fpr=0.05)
    assert result.fpr <= 0.05
    assert result.n_legit == 51
    tiers = result.config.scoring.tiers
    assert tiers["WATCH"] < tiers["SUSPECT"] < tiers["LIKELY"] < tiers["CONFIRMED"]
    path = tmp_path / "t.json"
    result.config.save(path)
    assert json.loads(path.read_text())["scoring"]["tiers"]["SUSPECT"] == tiers["SUSPECT"]


def test_labels_file_is_validated(tmp_path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"account_id": "a", "label": "legit"}\n{"account_id": "b", "label": "attack"}\n')
    assert read_labels(path) == {"a": "legit", "b": "attack"}
    path.write_text('{"account_id": "a", "label": "maybe"}\n')
    try:
        read_labels(path)
    except ValueError as exc:
        assert "unknown label" in str(exc)
    else:
        raise AssertionError("bad label accepted")


def test_detect_process_tails_an_sqlite_log_and_publishes(tmp_path) -> None:
    from distillguard.detect.online import tail_and_publish
    from distillguard.events.open import open_store

    b = Builder(21)
    b.chat_users(5)
    acct = b.extractor(requests=200)
    db = tmp_path / "events.db"
    store = open_store(str(db))
    store.write_many(b.t.sorted_events())
    store.close()
    runner = tail_and_publish(str(db), "memory://", once=True, batch=100)
    assert runner.processed == len(b.t.events)
    entry = runner.store.get(acct)
    assert entry is not None and entry.tier >= 2
