"""`distillguard bench ...`: score detectors on DistillBench scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from distillguard.sim.scoring.model import ScoreReport

bench_app = typer.Typer(
    help="DistillBench: score detectors on simulated traffic with ground truth.",
    no_args_is_help=True,
)


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise typer.BadParameter(f"{what} must be comma-separated integers, got {text!r}") from None
    if not values:
        raise typer.BadParameter(f"{what} is empty")
    return values


def _one_line(report: ScoreReport) -> str:
    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.0%}"

    return (
        f"{report.scenario}@{report.seed} · {report.detector}: campaign recall "
        f"{pct(report.campaigns.recall)}, account recall {pct(report.accounts.recall)}, "
        f"FPR {pct(report.accounts.false_positive_rate)}, harvest not stopped "
        f"{pct(report.campaigns.not_stopped_share)} ({report.replay.events:,} events)"
    )


@bench_app.command("detect")
def detect(
    target: str = typer.Argument(
        ...,
        help="A scenario file, a suite (directory of scenario files or a shipped suite name), "
        "or a directory written by `distillguard simulate` (one run, or one run per subdirectory).",
    ),
    detector: str = typer.Option("rate,phrase", "--detector", "-d", help="Comma-separated detector names."),
    seeds: str = typer.Option(
        "heldout",
        "--seeds",
        help="Seeds for generated scenarios: '1,2,3', '1-5', or the suite's tuning | heldout | all.",
    ),
    out: Path = typer.Option(Path("bench-results"), "--out", "-o", help="Output directory."),
    cadence: float = typer.Option(300.0, "--cadence", help="Seconds of simulated time between assessments."),
    threshold: str = typer.Option("suspect", "--threshold", help="Lowest tier that counts as flagged."),
    evade_n: str = typer.Option(
        "1,10,100,1000", "--evade-n", help="Campaign sizes for the cost-to-evade curve."
    ),
    scale: float = typer.Option(1.0, "--scale", help="Scale generated populations (quick runs: 0.1)."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Write PNG plots."),
) -> None:
    """Replay scenarios through detectors and report recall, FPR, harvest before flag, cost to evade."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from distillguard.detect.api import Tier
    from distillguard.sim.report import run_file_name, write_outputs
    from distillguard.sim.scoring.bench import BenchHooks, run_bench
    from distillguard.sim.scoring.datasets import DatasetError, parse_seeds, resolve
    from distillguard.sim.scoring.registry import DETECTORS

    console = Console(stderr=True)
    try:
        tier = Tier[threshold.upper()]
    except KeyError:
        raise typer.BadParameter(
            f"--threshold must be one of {', '.join(t.name.lower() for t in Tier)}"
        ) from None
    names = [n.strip() for n in detector.split(",") if n.strip()]
    for name in names:
        if name not in DETECTORS and ":" not in name:
            raise typer.BadParameter(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}")
    ns = _ints(evade_n, "--evade-n")
    try:
        sources = resolve(target, parse_seeds(seeds), scale=scale)
    except DatasetError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        overall = progress.add_task("runs", total=len(sources) * len(names))
        current = progress.add_task("events", total=None, visible=False)

        class Hooks(BenchHooks):
            def run_started(self, label: str, detector: str, n_events: int | None) -> None:
                progress.reset(current, total=n_events, description=f"{label} · {detector}", visible=True)

            def events_done(self, n: int, sim_time: float) -> None:
                progress.update(current, completed=n)

            def run_finished(self, report: ScoreReport | None) -> None:
                progress.advance(overall)
                if report is not None:
                    # one line per run, so a log (no TTY) shows progress and partial results
                    progress.console.print(_one_line(report), soft_wrap=True)
                    run_path = out / "runs" / run_file_name(report)
                    run_path.parent.mkdir(parents=True, exist_ok=True)
                    run_path.write_bytes(report.to_json())

            def run_skipped(self, label: str, detector: str, why: str) -> None:
                progress.advance(overall)

        try:
            result = run_bench(sources, names, cadence_s=cadence, threshold=tier, evade_ns=ns, hooks=Hooks())
        except DatasetError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        progress.update(current, visible=False)

    meta = {
        "target": target,
        "detectors": ",".join(names),
        "seeds": seeds,
        "cadence_s": cadence,
        "threshold": tier.name,
        "scale": scale,
    }
    paths = write_outputs(result, out, meta=meta, plots=plots)
    for error in result.errors:
        console.print(f"[yellow]skipped[/yellow] {error}")
    console.print(f"wrote {paths['markdown']} and {paths['json']} ({len(result.reports)} runs)")
    if not result.reports:
        raise typer.Exit(1)


@bench_app.command("evade")
def evade(
    scenario: str = typer.Argument(
        ..., help="A scenario file or bundled scenario name with an attack to resize."
    ),
    detector: str = typer.Option("rate,phrase", "--detector", "-d", help="Comma-separated detector names."),
    attack: str | None = typer.Option(
        None, "--attack", help="Which attack (name or kind); default the first."
    ),
    accounts: str = typer.Option("1,10,100", "--accounts", help="Campaign sizes N."),
    rates: str = typer.Option("20,100,500,2000", "--rates", help="Requests per account per day."),
    seed: int = typer.Option(1001, "--seed"),
    days: float = typer.Option(2.0, "--days", help="Simulated days per variant."),
    legit_scale: float = typer.Option(0.2, "--legit-scale", help="Scale of the legitimate population."),
    out: Path = typer.Option(Path("bench-evade"), "--out", "-o"),
    cadence: float = typer.Option(300.0, "--cadence"),
    threshold: str = typer.Option("suspect", "--threshold"),
    plots: bool = typer.Option(True, "--plots/--no-plots"),
) -> None:
    """Measure cost to evade directly: regenerate one attack at N accounts x r requests/day."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from distillguard.detect.api import Tier
    from distillguard.sim.report import write_sweep
    from distillguard.sim.scoring.datasets import DatasetError
    from distillguard.sim.scoring.registry import DetectorUnavailable, make_detector
    from distillguard.sim.scoring.sweep import run_sweep

    console = Console(stderr=True)
    try:
        tier = Tier[threshold.upper()]
    except KeyError:
        raise typer.BadParameter("--threshold must be a tier name") from None
    names = [n.strip() for n in detector.split(",") if n.strip()]
    try:
        for name in names:
            make_detector(name)
    except DetectorUnavailable as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    ns = _ints(accounts, "--accounts")
    rate_values = [float(r) for r in rates.split(",") if r.strip()]
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    ) as progress:  # fmt: skip
        task = progress.add_task("variants", total=len(ns) * len(rate_values))
        started = [False]

        def on_variant(n: int, rate: float) -> None:
            if started[0]:
                progress.advance(task)
            started[0] = True
            progress.update(task, description=f"N={n} r={rate:g}/day")

        try:
            sweep = run_sweep(
                scenario, names, attack=attack, accounts=ns, rates=rate_values, seed=seed, days=days,
                legit_scale=legit_scale, cadence_s=cadence, threshold=tier, on_variant=on_variant,
                on_point=lambda p: progress.console.print(
                    f"N={p.n_accounts} r={p.per_account_per_day:g}/day · {p.detector}: "
                    f"{'detected' if p.detected else 'not detected'}, "
                    f"not stopped {p.not_stopped_per_day:,.0f}/day of {p.harvest_per_day:,.0f}/day",
                    soft_wrap=True,
                ),
            )  # fmt: skip
        except DatasetError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        progress.advance(task)
    paths = write_sweep(sweep, out, plots=plots)
    console.print(f"wrote {paths['markdown']} and {paths['json']} ({len(sweep.points)} replays)")


@bench_app.command("report")
def report(
    sources: list[Path] = typer.Argument(..., help="Run JSON files or directories holding runs/*.json."),
    out: Path = typer.Option(Path("bench-results"), "--out", "-o", help="Output directory."),
    plots: bool = typer.Option(True, "--plots/--no-plots"),
) -> None:
    """Rebuild summary.md, results.json and plots from saved runs (e.g. several `bench detect` outputs)."""
    from distillguard.sim.report import write_outputs
    from distillguard.sim.scoring.bench import BenchResult
    from distillguard.sim.scoring.model import report_from_json

    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            runs = source / "runs" if (source / "runs").is_dir() else source
            files.extend(sorted(runs.glob("*.json")))
        elif source.is_file():
            files.append(source)
        else:
            raise typer.BadParameter(f"{source} does not exist")
    if not files:
        raise typer.BadParameter("no run files found")
    reports = [report_from_json(f.read_bytes()) for f in files]
    paths = write_outputs(BenchResult(reports=reports), out, meta={"rebuilt_from": len(files)}, plots=plots)
    typer.echo(f"wrote {paths['markdown']} and {paths['json']} ({len(reports)} runs)")


@bench_app.command("detectors")
def list_detectors() -> None:
    """List the detector names `bench detect` knows."""
    from distillguard.sim.scoring.registry import BASELINES, DETECTORS

    for name in DETECTORS:
        kind = "baseline" if name in BASELINES else "engine (distillguard.detect.engine)"
        typer.echo(f"{name}\t{kind}")


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
