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
    from distillguard.sim.report import write_outputs
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


@bench_app.command("detectors")
def list_detectors() -> None:
    """List the detector names `bench detect` knows."""
    from distillguard.sim.scoring.registry import BASELINES, DETECTORS

    for name in DETECTORS:
        kind = "baseline" if name in BASELINES else "engine (distillguard.detect.engine)"
        typer.echo(f"{name}\t{kind}")


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
