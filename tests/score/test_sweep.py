"""`bench evade`: one attack regenerated at N accounts x r requests/day, with a fake generator."""

from __future__ import annotations

import sys
from types import ModuleType

import msgspec
import pytest

from distillguard.events.schema import AccountInfo, RequestEvent
from distillguard.sim.scoring.sweep import run_sweep, variant
from distillguard.sim.truth import AccountTruth, Truth


class Entry(msgspec.Struct, kw_only=True):
    name: str
    kind: str
    knobs: dict = msgspec.field(default_factory=dict)


class Scenario(msgspec.Struct, kw_only=True):
    name: str
    days: float = 7.0
    attacks: list[Entry] = msgspec.field(default_factory=list)

    def scaled(self, scale: float) -> Scenario:
        return self


class Simulation:
    """Two quiet legit accounts plus the campaign: N accounts, evenly spaced requests."""

    def __init__(self, scenario: Scenario, seed: int, **kwargs) -> None:
        knobs = scenario.attacks[0].knobs
        n, rate = knobs["accounts"], knobs["per_account_per_day"]
        per_account = int(rate * scenario.days)
        span = scenario.days * 86400.0
        truth = Truth(scenario=scenario.name, seed=seed)
        rows = []
        for i in range(n):
            acct = f"h{i}"
            truth.accounts[acct] = AccountTruth(
                account_id=acct, persona="hydra", campaign_id="c", is_attack=True
            )
            rows += [(j * span / per_account + i, acct, True) for j in range(per_account)]
        for acct in ("l0", "l1"):
            truth.accounts[acct] = AccountTruth(account_id=acct, persona="chat_user")
            rows += [(j * 3600.0 + 7, acct, False) for j in range(int(scenario.days * 24))]
        rows.sort()
        self.events_list = []
        for k, (ts, acct, harvest) in enumerate(rows):
            self.events_list.append(RequestEvent(request_id=f"r{k}", account_id=acct, ts_start=ts))
            if harvest:
                truth.attack_requests[f"r{k}"] = "c"
        self.truth = truth
        self.accounts = [AccountInfo(account_id=a) for a in truth.accounts]
        self.orgs: list = []
        self.n_events = len(rows)

    def iter_events(self):
        return iter(self.events_list)


@pytest.fixture
def fake_generator(monkeypatch):
    scenario_mod = ModuleType("distillguard.sim.scenario")
    scenario_mod.load_scenario = lambda ref: Scenario(  # type: ignore[attr-defined]
        name="fake",
        attacks=[Entry(name="h", kind="hydra", knobs={"accounts": 60, "requests_per_day": 60000})],
    )
    generate_mod = ModuleType("distillguard.sim.generate")
    generate_mod.Simulation = Simulation  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "distillguard.sim.scenario", scenario_mod)
    monkeypatch.setitem(sys.modules, "distillguard.sim.generate", generate_mod)


def test_variant_resizes_only_the_attack():
    base = Scenario(
        name="s", attacks=[Entry(name="a", kind="hydra", knobs={"accounts": 60, "timing": "flat"})]
    )
    v = variant(base, "hydra", 7, 35.0, days=1.5)
    assert v.attacks[0].knobs == {"accounts": 7, "per_account_per_day": 35.0, "timing": "flat"}
    assert v.days == 1.5 and v.name == "s"
    assert base.attacks[0].knobs["accounts"] == 60  # the base is not modified
    with pytest.raises(ValueError, match="no attack 'bulk'"):
        variant(base, "bulk", 1, 1.0, None)


def test_sweep_finds_the_rate_under_the_limit(fake_generator):
    # the rate baseline flags over 5,000 requests per account per day
    sweep = run_sweep("fake", ["rate"], accounts=(1, 3), rates=(100.0, 6000.0), days=1.0)
    detected = {(p.n_accounts, p.per_account_per_day): p.detected for p in sweep.points}
    assert detected == {(1, 100.0): False, (1, 6000.0): True, (3, 100.0): False, (3, 6000.0): True}
    one, three = sweep.curve
    assert (one.n_accounts, one.max_undetected_rate) == (1, 100.0)
    assert one.max_undetected_harvest_per_day == pytest.approx(100.0, rel=0.02)
    assert three.max_undetected_harvest_per_day == pytest.approx(300.0, rel=0.02)
    # at 6,000/day each account got ~5,000 requests out before the daily limit tripped
    assert three.max_not_stopped_per_day == pytest.approx(3 * 5001, rel=0.02)
    assert all(p.legit_false_positive_rate == 0.0 for p in sweep.points)
    assert msgspec.json.decode(sweep.to_json())["schema"] == "distillbench.evade/1"


def test_bench_evade_cli(fake_generator, tmp_path):
    import typer
    from typer.testing import CliRunner

    from distillguard.sim.bench_commands import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None: ...

    register(app)
    out = tmp_path / "evade"
    args = ["bench", "evade", "fake", "-d", "rate", "--accounts", "2", "--rates", "50", "--days", "1"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    md = (out / "evade.md").read_text()
    assert "| rate | 2 | 50 |" in md
    assert "N=2 r=50/day · rate: not detected" in result.output
    assert (out / "evade.png").read_bytes()[:4] == b"\x89PNG"
