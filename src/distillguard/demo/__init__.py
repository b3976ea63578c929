"""`distillguard demo`: the whole system on embedded defaults, in about two minutes.

Starts the mock upstream and the full gateway (SQLite event log, in-process detector,
enforcement, console), creates accounts and keys for a DistillBench scenario, drives its
traffic through the gateway with the official SDKs on a compressed clock, then says when
and why the campaign was flagged, what it harvested before and after, and which
legitimate customers were touched. The console stays up until Ctrl-C (or `--no-wait`).
"""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        scenario: str = typer.Option("demo", "--scenario", help="bundled scenario name or YAML path"),
        speed: float = typer.Option(720.0, "--speed", min=1.0, help="simulated seconds per real second"),
        port: int = typer.Option(8080, "--port", help="gateway + console port (0: any free port)"),
        seed: int = typer.Option(1, "--seed"),
        scale: float = typer.Option(1.0, "--scale", help="shrink every population of the scenario"),
        data_dir: Path = typer.Option(Path("demo-data"), "--data-dir", help="event log, keys, console state"),
        no_wait: bool = typer.Option(False, "--no-wait", help="exit after the summary"),
        no_enforce: bool = typer.Option(False, "--no-enforce", help="detect only: nothing is acted on"),
        shadow: bool = typer.Option(False, "--shadow", help="global shadow mode: decide and record only"),
        deadline: float = typer.Option(300.0, "--deadline", help="stop sending after this many seconds"),
    ) -> None:
        """The main job: watch a hydra campaign get caught and stopped, end to end."""
        from distillguard.demo.run import RunOptions
        from distillguard.demo.show import run_demo

        options = RunOptions(
            scenario=scenario,
            seed=seed,
            scale=scale,
            speed=speed,
            port=port,
            data_dir=data_dir,
            enforce=not no_enforce,
            shadow=shadow,
            deadline_s=deadline,
        )
        raise typer.Exit(run_demo(options, wait=not no_wait))
