"""Issue 5's bar, end to end: DistillBench scenarios through the real gateway (official SDKs ->
gateway with the full stack -> mock model), once with enforcement off and once on.

Run:  PYTHONPATH=src python bench/e2e_harvest.py [SCENARIO ...] [--scale 0.05] [--days 2]
                                                [--speed 1200] [--seed 1001] [--out DIR]

Both runs detect in-process on the same compressed clock. The campaign's flag time is taken
from the enforcement-off run (first assessment with one of its accounts at SUSPECT or
above), so both runs split their harvest at the same simulated moment. Harvest = completion
tokens the campaign's accounts received (ground truth) after that moment, minus reasoning
tokens that reasoning protection withheld. Legitimate personas: requests on which a
non-shadow action was taken (refused, or protected / hardened / rerouted) in the on run.

The full scenarios (170k-370k requests over 5 days) are too big to push through HTTP on a
2-core machine in one sitting, so by default every population is scaled by `--scale` and
the scenario is cut to its first `--days` days (the bundled `demo` scenario runs whole).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from distillguard.demo.run import E2ERun, RunOptions, RunResult
from distillguard.sim.scenario import bundled_dir

DEFAULT_SCENARIOS = ["demo", "hydra_shared_payment", "bulk_cot", "logprob_extraction"]


def scenario_file(name: str, scale: float, days: float, workdir: Path) -> tuple[str, float]:
    """A YAML of the scenario cut to `days` (populations are scaled by the Simulation)."""
    if name == "demo":
        return name, 1.0
    import yaml

    raw = yaml.safe_load((bundled_dir() / f"{name}.yaml").read_text())
    raw["days"] = min(float(raw.get("days", days)), days)
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(path), scale


def one_run(
    scenario: str,
    scale: float,
    seed: int,
    speed: float,
    enforce: bool,
    data_dir: Path,
    detector_config: str,
    assess_every: float,
) -> E2ERun:
    run = E2ERun(
        RunOptions(
            scenario=scenario,
            seed=seed,
            scale=scale,
            speed=speed,
            data_dir=data_dir,
            enforce=enforce,
            console=False,
            deadline_s=900.0,
            detector_config=detector_config,
            assess_interval_s=assess_every / speed,
        )
    )
    run.prepare()
    run.start()
    try:
        asyncio.run(run.traffic())
        run.settle()
    except BaseException:
        run.close()
        raise
    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", default=DEFAULT_SCENARIOS)
    parser.add_argument(
        "--seed", type=int, default=1001, help="held-out seed (the detector was not tuned on it)"
    )
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--speed", type=float, default=1200.0, help="simulated seconds per wall second")
    parser.add_argument(
        "--detector-config", default="", help="calibrated DetectorConfig (distillguard calibrate)"
    )
    parser.add_argument(
        "--assess-every",
        type=float,
        default=300.0,
        help="simulated seconds between the detector's assessments",
    )
    parser.add_argument("--out", type=Path, default=Path("out/e2e_harvest"))
    parser.add_argument("--replot", type=Path, default=None, help="only redraw the plot from a results.json")
    args = parser.parse_args()
    if args.replot is not None:
        plot(json.loads(args.replot.read_text())["rows"], args.replot.with_name("e2e_harvest.png"))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    console.print(f"command: PYTHONPATH=src python {' '.join(sys.argv)}")
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dg-e2e-") as tmp:
        workdir = Path(tmp)
        for name in args.scenarios:
            scenario, scale = scenario_file(name, args.scale, args.days, workdir)
            results: dict[bool, RunResult] = {}
            runs: dict[bool, E2ERun] = {}
            for enforce in (False, True):
                label = f"{name}: enforcement {'on' if enforce else 'off'}"
                started = time.monotonic()
                with console.status(label):
                    run = one_run(
                        scenario,
                        scale,
                        args.seed,
                        args.speed,
                        enforce,
                        workdir / f"{name}-{enforce}",
                        args.detector_config,
                        args.assess_every,
                    )
                runs[enforce] = run
                off = results.get(False)
                flag_times = None
                if off is not None:
                    flag_times = {c.campaign_id: c.flagged_at for c in off.campaigns if c.flagged_at}
                results[enforce] = run.result(flag_times)
                run.close()
                r = results[enforce]
                console.print(
                    f"{label}: {r.sent:,} requests in {time.monotonic() - started:.0f} s "
                    f"(sender at most {r.behind_s:.0f} s behind schedule), statuses {r.by_status}"
                )
            off, on = results[False], results[True]
            sim = runs[True].sim
            for c_off, c_on in zip(off.campaigns, on.campaigns, strict=True):
                when = (
                    (c_off.flagged_at - sim.scenario.start_ts) / 3600
                    if c_off.flagged_at is not None
                    else None
                )
                rows.append(
                    {
                        "scenario": name,
                        "scale": scale,
                        "days": min(args.days, sim.scenario.days) if name != "demo" else sim.scenario.days,
                        "events": len(runs[True].events),
                        "campaign": c_off.campaign_id,
                        "strategy": c_off.strategy,
                        "flagged_after_h": when,
                        "off_after_tokens": c_off.after.premium,
                        "on_after_tokens": c_on.after.premium,
                        "off_after_requests_served": c_off.after.served,
                        "on_after_requests_served": c_on.after.served,
                        "off_after_logprob_answers": c_off.after.logprob_answers,
                        "on_after_logprob_answers": c_on.after.logprob_answers,
                        "share": c_on.after.premium / c_off.after.premium if c_off.after.premium else None,
                        "legit_accounts": on.legit_accounts,
                        "legit_requests": on.legit_requests,
                        "legit_requests_acted": sum(on.legit_acted.values()),
                        "legit_accounts_acted": on.legit_affected,
                        "legit_flagged": len(on.legit_flagged),
                    }
                )
    (args.out / "results.json").write_text(json.dumps({"command": sys.argv, "rows": rows}, indent=1))
    table = Table(
        title="campaign harvest after the flag (tokens kept), enforcement off vs on, through the gateway"
    )
    columns = ("scenario", "events", "campaign", "flagged after", "off", "on", "on/off", "logprob answers")
    for col in (*columns, "legit acted on"):
        table.add_column(col, justify="right")
    for row in rows:
        share = f"{row['share']:.1%}" if row["share"] is not None else "-"
        flagged = f"{row['flagged_after_h']:.1f} h" if row["flagged_after_h"] is not None else "never"
        table.add_row(
            row["scenario"], f"{row['events']:,}", row["campaign"], flagged,
            f"{row['off_after_tokens']:,}", f"{row['on_after_tokens']:,}", share,
            f"{row['off_after_logprob_answers']:,} -> {row['on_after_logprob_answers']:,}",
            f"{row['legit_accounts_acted']}/{row['legit_accounts']} acct, "
            f"{row['legit_requests_acted']}/{row['legit_requests']} req",
        )  # fmt: skip
    console.print(table)
    plot(rows, args.out / "e2e_harvest.png")
    console.print(f"results: {args.out / 'results.json'}, plot: {args.out / 'e2e_harvest.png'}")


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not rows:
        return
    fig, ax = plt.subplots(figsize=(8, 4))
    xs = list(range(len(rows)))
    flagged = [r["flagged_after_h"] is not None for r in rows]
    off = [r["off_after_tokens"] if f else 0 for r, f in zip(rows, flagged, strict=True)]
    on = [r["on_after_tokens"] if f else 0 for r, f in zip(rows, flagged, strict=True)]
    ax.bar([x - 0.2 for x in xs], off, 0.4, label="enforcement off")
    ax.bar([x + 0.2 for x in xs], on, 0.4, label="enforcement on")
    for x, r, f in zip(xs, rows, flagged, strict=True):
        if not f:
            ax.annotate("never flagged", (x, 1), ha="center", va="bottom", fontsize=8)
        elif r["share"] is not None:
            top = max(r["on_after_tokens"], 1)
            ax.annotate(f"{r['share']:.1%}", (x + 0.2, top), ha="center", va="bottom")
    ax.set_xticks(xs, [f"{r['scenario']}\n{r['campaign']}" for r in rows], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylim(bottom=1)
    ax.set_ylabel("tokens kept by the campaign after its flag (log)")
    ax.set_title("Through the gateway (SDKs -> gateway -> mock): harvest after flag")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
