"""The override and policy commands, through the real CLI assembly."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from distillguard.cli import build_app
from distillguard.detect.api import Tier
from distillguard.enforce.overrides import SQLiteOverrideStore

runner = CliRunner()


def test_override_set_list_clear(tmp_path: Path) -> None:
    app = build_app()
    db = str(tmp_path / "o.sqlite")
    result = runner.invoke(app, ["override", "set", "--account", "a1", "--tier", "likely", "--db", db])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["override", "set", "--org", "o1", "--action", "block", "--db", db])
    assert result.exit_code == 0, result.output
    store = SQLiteOverrideStore(db)
    found = store.get("account", "a1")
    assert found is not None and found.tier == Tier.LIKELY
    org = store.get("org", "o1")
    assert org is not None and org.actions == ("block",)
    store.close()
    listed = runner.invoke(app, ["override", "list", "--db", db])
    assert "a1" in listed.output and "o1" in listed.output
    assert runner.invoke(app, ["override", "clear", "--account", "a1", "--db", db]).exit_code == 0
    assert runner.invoke(app, ["override", "clear", "--account", "a1", "--db", db]).exit_code == 1


def test_override_rejects_bad_input(tmp_path: Path) -> None:
    app = build_app()
    db = str(tmp_path / "o.sqlite")
    assert runner.invoke(app, ["override", "set", "--account", "a", "--db", db]).exit_code == 2
    assert (
        runner.invoke(app, ["override", "set", "--account", "a", "--org", "o", "--tier", "LIKELY"]).exit_code
        == 2
    )
    assert (
        runner.invoke(app, ["override", "set", "--org", "o", "--action", "nuke", "--db", db]).exit_code == 2
    )


def test_policy_check(tmp_path: Path) -> None:
    app = build_app()
    ok = runner.invoke(app, ["policy", "check"])
    assert ok.exit_code == 0 and "CONFIRMED" in ok.output
    bad = tmp_path / "p.toml"
    bad.write_text('version = "x"\n[tiers.SUSPECT]\nactions = ["nuke"]\n')
    result = runner.invoke(app, ["policy", "check", str(bad)])
    assert result.exit_code == 1 and "nuke" in result.output
