from __future__ import annotations

from pathlib import Path

import msgspec
import yaml
from typer.testing import CliRunner

from distillguard.cli import build_app
from distillguard.events.schema import AccountInfo, OrgInfo, event_from_json
from distillguard.sim.generate import generate
from distillguard.sim.truth import Truth

SMALL = {
    "name": "cli_small",
    "days": 1,
    "legit": [{"persona": "chat_user", "count": 30}, {"persona": "student", "count": 30}],
    "attacks": [{"attack": "hydra", "name": "h", "accounts": 5, "requests_per_day": 800}],
}


def _scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    return path


def test_simulate_writes_files_that_round_trip(tmp_path: Path) -> None:
    scenario = _scenario_file(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(build_app(), ["simulate", str(scenario), "--seed", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = (out / "events.jsonl").read_bytes().splitlines()
    events = [event_from_json(line) for line in lines]
    expected = generate(scenario, seed=4)
    assert events == expected.events
    accounts = [
        msgspec.json.decode(x, type=AccountInfo) for x in (out / "accounts.jsonl").read_bytes().splitlines()
    ]
    assert accounts == expected.accounts
    orgs = [msgspec.json.decode(x, type=OrgInfo) for x in (out / "orgs.jsonl").read_bytes().splitlines()]
    assert orgs == expected.orgs
    truth = msgspec.json.decode((out / "truth.json").read_bytes(), type=Truth)
    assert truth == expected.truth and truth.attack_requests


def test_simulate_parquet(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from distillguard.events.io import read_events

    scenario = _scenario_file(tmp_path)
    out = tmp_path / "pq"
    result = CliRunner().invoke(
        build_app(), ["simulate", str(scenario), "--out", str(out), "--format", "parquet"]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out / "events.parquet")
    expected = generate(scenario, seed=0)
    assert table.num_rows == len(expected.events)
    assert list(read_events(out / "events.parquet")) == expected.events


def test_simulate_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(build_app(), ["simulate", "no_such_scenario", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "no scenario file" in result.output
    result = runner.invoke(build_app(), ["simulate", "legit_only", "--out", str(tmp_path), "--format", "csv"])
    assert result.exit_code != 0
    result = runner.invoke(build_app(), ["simulate", "list"])
    assert result.exit_code == 0 and "hydra_shared_payment" in result.output


def test_simulate_through_cli(tmp_path: Path) -> None:
    import json

    from distillguard.mock.server import run_mock_in_thread
    from distillguard.sim.generate import Simulation

    scenario = _scenario_file(tmp_path)
    sim = Simulation(scenario, seed=1)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({a.account_id: f"sk-{i}" for i, a in enumerate(sim.accounts)}))
    with run_mock_in_thread() as mock:
        args = ["simulate", str(scenario), "--seed", "1", "--through", mock.url, "--keys", str(keys)]
        result = CliRunner().invoke(build_app(), [*args, "--speedup", "1e9", "--limit", "12"])
        stats = dict(mock.stats)
    assert result.exit_code == 0, result.output
    assert "sent 12 requests: 12 ok, 0 failed" in result.output
    assert stats["requests"] == 12
