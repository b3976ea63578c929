"""Resolving `bench detect` targets and reading simulated runs from disk."""

from __future__ import annotations

import msgspec
import pytest

from distillguard.sim.scoring.datasets import DatasetError, load_dir, resolve


def test_load_dir_round_trips(run_dir, hand_case):
    events, accounts, truth = hand_case
    dataset = load_dir(run_dir)
    assert dataset.truth == truth
    assert dataset.accounts == accounts
    assert dataset.n_events == len(events)
    assert list(dataset.events()) == events
    assert list(dataset.events()) == events  # a second pass reads the file again


def test_parquet_events(tmp_path, hand_case):
    import pyarrow as pa
    import pyarrow.parquet as pq

    events, _accounts, truth = hand_case
    (tmp_path / "truth.json").write_bytes(msgspec.json.encode(truth))
    pq.write_table(
        pa.Table.from_pylist([msgspec.to_builtins(e) for e in events]), tmp_path / "events.parquet"
    )
    dataset = load_dir(tmp_path)
    assert list(dataset.events()) == events
    assert dataset.accounts == []


def test_resolve_single_run_and_suite_of_runs(tmp_path, run_dir):
    assert [s.label for s in resolve(str(run_dir), [1, 2])] == ["hand-run"]
    suite = tmp_path / "suite"
    for name in ("b", "a"):
        (suite / name).mkdir(parents=True)
        for f in run_dir.iterdir():
            (suite / name / f.name).write_bytes(f.read_bytes())
    assert [s.label for s in resolve(str(suite), [1])] == ["a", "b"]


def test_resolve_scenarios_times_seeds(tmp_path):
    (tmp_path / "one.yaml").write_text("name: one\n")
    (tmp_path / "two.yml").write_text("name: two\n")
    labels = [s.label for s in resolve(str(tmp_path), [1, 2])]
    assert labels == ["one@1", "one@2", "two@1", "two@2"]


def test_resolve_unknown_name():
    with pytest.raises(DatasetError, match="neither a path"):
        resolve("no-such-suite-anywhere", [1])


def test_missing_truth(tmp_path):
    with pytest.raises(DatasetError, match=r"no truth\.json"):
        load_dir(tmp_path)


def test_parse_seeds():
    from distillguard.sim.scoring.datasets import parse_seeds

    assert parse_seeds("1-3,10") == [1, 2, 3, 10]
    assert parse_seeds("heldout") == "heldout"
    with pytest.raises(DatasetError, match="seeds must be"):
        parse_seeds("one")


def test_suite_file_uses_its_scenarios_and_seed_sets(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from distillguard.sim.scoring import datasets

    suite = tmp_path / "suite.yaml"
    suite.write_text("scenarios: [alpha, beta]\ntuning_seeds: [1, 2]\nheldout_seeds: [101]\n")
    (tmp_path / "alpha.yaml").write_text("name: alpha\n")
    fake = SimpleNamespace(
        load_suite=lambda path: SimpleNamespace(
            scenarios=["alpha", "beta"], tuning_seeds=[1, 2], heldout_seeds=[101]
        )
    )
    monkeypatch.setattr(datasets, "_scenario_module", lambda: fake)
    assert [s.label for s in resolve(str(suite), "heldout")] == ["alpha@101", "beta@101"]
    assert [s.label for s in resolve(str(suite), "all")] == [
        "alpha@1", "alpha@2", "alpha@101", "beta@1", "beta@2", "beta@101",
    ]  # fmt: skip
    assert [s.label for s in resolve(str(suite), [5])] == ["alpha@5", "beta@5"]
    # a directory holding the suite and its scenarios scores the scenarios, not the suite file
    assert [s.label for s in resolve(str(tmp_path), [5])] == ["alpha@5"]


def test_bad_scenario_file_is_a_clear_error(tmp_path):
    import importlib.util

    if importlib.util.find_spec("distillguard.sim.generate") is None:
        pytest.skip("generator not in this checkout")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nattacks:\n  - {attack: no_such_attack}\n")
    (source,) = resolve(str(bad), [1])
    with pytest.raises(DatasetError, match="cannot generate bad@1"):
        source.load()
