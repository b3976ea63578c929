"""The CLI: admin users, `report`, `export stix`, `console labels export` (typer runner)."""

from __future__ import annotations

from pathlib import Path

import pytest
import stix2
from typer.testing import CliRunner

from distillguard.cli import build_app
from distillguard.console.auth import Auth
from distillguard.console.labels import LabelStore
from distillguard.console.state import StateDB
from distillguard.detect.calibrate import read_labels

from .conftest import World

runner = CliRunner()


def test_admin_create_list_delete(tmp_path: Path) -> None:
    app = build_app()
    state = str(tmp_path / "state.db")
    ok = runner.invoke(
        app,
        ["console", "admin", "create", "alice", "--state", state, "--password-stdin"],
        input="a-long-password\n",
    )
    assert ok.exit_code == 0, ok.output
    assert Auth(StateDB(state)).authenticate("alice", "a-long-password") is not None
    scoped = runner.invoke(
        app,
        [
            "console",
            "--state",
            state,
            "admin",
            "create",
            "vic",
            "--role",
            "viewer",
            "--org",
            "org_1",
            "--password-stdin",
        ],
        input="a-long-password\n",
    )
    assert scoped.exit_code == 0, scoped.output
    listed = runner.invoke(app, ["console", "admin", "list", "--state", state])
    assert "alice\tadmin\t*" in listed.output and "vic\tviewer\torg_1" in listed.output
    dup = runner.invoke(
        app,
        ["console", "admin", "create", "alice", "--state", state, "--password-stdin"],
        input="a-long-password\n",
    )
    assert dup.exit_code == 2 and "exists" in dup.output
    short = runner.invoke(
        app, ["console", "admin", "create", "bob", "--state", state, "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 2 and "too short" in short.output
    assert runner.invoke(app, ["console", "admin", "delete", "alice", "--state", state]).exit_code == 0
    assert Auth(StateDB(state)).get_user("alice") is None


def test_state_defaults_to_the_sqlite_event_db(tmp_path: Path) -> None:
    db = str(tmp_path / "events.db")
    result = runner.invoke(
        build_app(),
        ["console", "--db", db, "admin", "create", "alice", "--password-stdin"],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    assert Auth(StateDB(db)).get_user("alice") is not None


@pytest.mark.slow  # two hunts over the log, through the CLI
def test_report_and_export_stix(world: World, tmp_path: Path) -> None:
    app = build_app()
    events = str(world.files["events"])  # the simulator's JSONL (accounts.jsonl beside it is picked up)
    out = tmp_path / "evidence"
    result = runner.invoke(app, ["report", "all", "--db", events, "--out", str(out)])
    assert result.exit_code == 0, result.output
    reports = sorted(out.glob("*/report.md"))
    assert reports, result.output
    campaign = reports[0].parent.name
    assert (out / campaign / "report.html").exists()
    assert "Payment fingerprint" in reports[0].read_text()  # account metadata was found
    stix2.parse((out / campaign / "stix.json").read_text())

    bundle = tmp_path / "one.json"
    result = runner.invoke(app, ["export", "stix", campaign, "--db", events, "--out", str(bundle)])
    assert result.exit_code == 0, result.output
    assert any(o.type == "indicator" for o in stix2.parse(bundle.read_text()).objects)

    missing = runner.invoke(app, ["report", "camp-99999", "--db", events, "--out", str(out)])
    assert missing.exit_code == 2 and "no campaign" in missing.output


def test_labels_export_for_calibrate(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    LabelStore(StateDB(state)).set_labels(["a1"], "attack", by="ana")
    out = tmp_path / "labels.jsonl"
    result = runner.invoke(
        build_app(), ["console", "labels", "export", "--state", str(state), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert read_labels(out) == {"a1": "attack"}
