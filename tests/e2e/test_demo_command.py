"""`distillguard demo --no-wait`: runs, prints the story, exits 0, leaves the log behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from distillguard.cli import build_app
from distillguard.events.open import open_store

TINY = str(Path(__file__).with_name("tiny.yaml"))


@pytest.mark.slow
def test_demo_runs_and_prints_the_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        build_app(),
        [
            "demo",
            "--scenario",
            TINY,
            "--speed",
            "7200",
            "--port",
            "0",
            "--no-wait",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "What happened" in out and "Campaign " in out and "Legitimate customers acted on" in out
    assert "/console/" in out and "password" in out
    store = open_store(str(tmp_path / "distillguard.db"), readonly=True)
    try:
        assert store.count() > 50
    finally:
        store.close()


def test_demo_reports_a_taken_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            build_app(),
            ["demo", "--scenario", TINY, "--port", str(port), "--no-wait", "--data-dir", str(tmp_path)],
        )
    assert result.exit_code == 2 and "--port" in result.output
