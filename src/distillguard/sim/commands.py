"""`distillguard simulate`: write a scenario's events, accounts, orgs and truth, or send them
through a gateway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        scenario: Annotated[
            str, typer.Argument(help="scenario YAML path or bundled name ('list' to list them)")
        ],
        seed: Annotated[int, typer.Option(help="random seed")] = 0,
        out: Annotated[Path | None, typer.Option(help="output directory")] = None,
        fmt: Annotated[str, typer.Option("--format", help="events file format: jsonl or parquet")] = "jsonl",
        scale: Annotated[float, typer.Option(help="multiply population sizes and volumes")] = 1.0,
        prompt_split: Annotated[
            str | None, typer.Option(help="override the scenario's real-prompt half: tune|eval")
        ] = None,
        through: Annotated[
            str | None, typer.Option(help="send requests through a running gateway at this URL")
        ] = None,
        keys: Annotated[
            Path | None, typer.Option(help="with --through: JSON file mapping account_id -> API key")
        ] = None,
        speedup: Annotated[
            float, typer.Option(help="with --through: simulated seconds per real second")
        ] = 3600.0,
        concurrency: Annotated[int, typer.Option(help="with --through: requests in flight")] = 16,
        limit: Annotated[
            int | None, typer.Option(help="with --through: send at most this many requests")
        ] = None,
    ) -> None:
        """Generate DistillBench traffic with ground truth."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from distillguard.sim.generate import Simulation, write_outputs
        from distillguard.sim.scenario import ScenarioError, bundled_names

        console = Console(stderr=True)
        if scenario == "list":
            for name in bundled_names():
                typer.echo(name)
            return
        if through is None and out is None:
            raise typer.BadParameter("give --out DIR (or --through URL)")
        if prompt_split not in (None, "tune", "eval"):
            raise typer.BadParameter("--prompt-split must be tune or eval")
        if fmt not in ("jsonl", "parquet"):
            raise typer.BadParameter("--format must be jsonl or parquet")
        try:
            with console.status(f"planning {scenario} (seed {seed})"):
                sim = Simulation(scenario, seed, scale=scale, prompt_split=prompt_split)  # type: ignore[arg-type]
        except ScenarioError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        console.print(
            f"{sim.scenario.name}: {sim.n_events:,} events, {len(sim.accounts):,} accounts, "
            f"{len(sim.truth.campaigns)} campaigns"
        )
        if through is not None:
            from distillguard.sim.through import load_keys, send_through

            sent = send_through(
                sim,
                through,
                load_keys(keys) if keys else {},
                speedup=speedup,
                concurrency=concurrency,
                limit=limit,
                console=console,
            )
            console.print(f"sent {sent.sent:,} requests: {sent.ok:,} ok, {sent.failed:,} failed")
            if out is None:
                return
        assert out is not None
        with Progress(
            TextColumn("writing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task("events", total=sim.n_events)
            paths = write_outputs(sim, out, fmt, on_chunk=lambda n: progress.advance(task, n))  # type: ignore[arg-type]
        for name, path in paths.items():
            console.print(f"{name}: {path}")
