"""`distillguard bench detect` end to end on a hand-built run written to disk."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from distillguard.sim.bench_commands import register


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None: ...

    register(app)
    return app


def test_bench_detect_writes_json_markdown_and_plots(run_dir, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        _app(),
        ["bench", "detect", str(run_dir), "--detector", "rate,phrase", "--out", str(out), "--seeds", "1"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    assert data["schema"] == "distillbench.bench/1"
    assert [r["detector"] for r in data["runs"]] == ["rate", "phrase"]
    assert {row["detector"] for row in data["summary"]} == {"rate", "phrase"}
    # the tiny case stays under the rate limits and has no prompt text: nothing is flagged
    assert data["runs"][0]["accounts"]["n_flagged"] == 0
    assert data["runs"][0]["campaigns"]["n_campaigns"] == 3
    md = (out / "summary.md").read_text()
    assert "| hand | rate |" in md
    assert "hand@7 · rate: campaign recall 0%, account recall 0%, FPR 0%" in result.output
    for png in ("recall_fpr.png", "harvest_before_flag.png", "cost_to_evade.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    assert len(list((out / "runs").iterdir())) == 2


def test_missing_engine_is_reported_not_fatal(run_dir, tmp_path, monkeypatch):
    from distillguard.sim.scoring import registry

    monkeypatch.setattr(registry, "ENGINE_MODULE", "distillguard.detect.no_such_engine")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        _app(), ["bench", "detect", str(run_dir), "-d", "rate,distillguard", "--out", str(out), "--no-plots"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    assert [r["detector"] for r in data["runs"]] == ["rate"]
    assert "not in this checkout" in data["errors"][0]
    assert "not in this checkout" in (out / "summary.md").read_text()


def test_bad_threshold_and_target(run_dir, tmp_path):
    runner = CliRunner()
    bad = runner.invoke(_app(), ["bench", "detect", str(run_dir), "--threshold", "severe"])
    assert bad.exit_code != 0
    missing = runner.invoke(_app(), ["bench", "detect", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 2
    assert "neither a path" in missing.output


def test_bench_report_rebuilds_from_runs(run_dir, tmp_path):
    first = tmp_path / "first"
    runner = CliRunner()
    args = ["bench", "detect", str(run_dir), "-d", "rate,phrase", "--no-plots"]
    assert runner.invoke(_app(), [*args, "--out", str(first)]).exit_code == 0
    rebuilt = tmp_path / "rebuilt"
    result = runner.invoke(_app(), ["bench", "report", str(first), "--out", str(rebuilt), "--no-plots"])
    assert result.exit_code == 0, result.output
    old = json.loads((first / "results.json").read_text())
    new = json.loads((rebuilt / "results.json").read_text())
    assert sorted(r["detector"] for r in new["runs"]) == ["phrase", "rate"]
    assert sorted(new["summary"], key=lambda r: r["detector"]) == sorted(
        old["summary"], key=lambda r: r["detector"]
    )
