"""CLI: `distillguard detect`, `distillguard hunt`, `distillguard calibrate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from distillguard.detect.engine import DetectorConfig


def _load_config(path: str | None) -> DetectorConfig:
    from distillguard.detect.engine import DetectorConfig

    return DetectorConfig.load(path) if path else DetectorConfig()


def register(app: typer.Typer) -> None:
    @app.command()
    def hunt(
        source: Annotated[
            str, typer.Argument(help="Event log: JSONL/Parquet file, SQLite path or PostgreSQL URL")
        ],
        out: Annotated[Path, typer.Option("--out", help="Directory for flags.json and report.md")] = Path(
            "hunt"
        ),
        accounts: Annotated[
            str | None, typer.Option("--accounts", help="AccountInfo JSONL (signup, payment) if you have it")
        ] = None,
        config: Annotated[
            str | None, typer.Option("--config", help="Thresholds file from `calibrate`")
        ] = None,
        cadence: Annotated[float, typer.Option(help="Seconds of log time between assessments")] = 300.0,
    ) -> None:
        """Run detection in batch over an event log; write flags (JSON) and a Markdown report."""
        from rich.console import Console
        from rich.progress import Progress

        from distillguard.detect.engine import DistillGuardDetector
        from distillguard.detect.hunt import read_accounts, read_event_log, run_batch, write_report

        console = Console(stderr=True)
        detector = DistillGuardDetector(_load_config(config))
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("hunting", total=None)
            result = run_batch(
                detector,
                read_event_log(source),
                read_accounts(accounts),
                cadence_s=cadence,
                progress=lambda n, _ts: progress.update(task, completed=n, description=f"{n} events"),
            )
        flags_path, report_path = write_report(result, out, source=source)
        suspects = sum(1 for c in result.final.campaigns.values() if c.tier >= 2)
        console.print(
            f"{result.events} events: {suspects} campaigns, "
            f"{sum(1 for f in result.final.accounts.values() if f.tier >= 2)} accounts at SUSPECT+"
        )
        typer.echo(str(flags_path))
        typer.echo(str(report_path))

    @app.command()
    def calibrate(
        source: Annotated[str, typer.Argument(help="Event log of traffic known (or labelled) legitimate")],
        out: Annotated[Path, typer.Option("--out", help="Thresholds file to write (JSON)")] = Path(
            "thresholds.json"
        ),
        target_fpr: Annotated[
            float, typer.Option(help="Target false-positive rate on legit accounts")
        ] = 0.001,
        labels: Annotated[
            str | None, typer.Option("--labels", help="Analyst labels: JSONL of {account_id, label}")
        ] = None,
        accounts: Annotated[str | None, typer.Option("--accounts", help="AccountInfo JSONL")] = None,
        config: Annotated[
            str | None, typer.Option("--config", help="Start from this thresholds file")
        ] = None,
    ) -> None:
        """Set tier thresholds so at most TARGET_FPR of legitimate accounts reach SUSPECT."""
        from distillguard.detect.calibrate import calibrate as run_calibration
        from distillguard.detect.calibrate import read_labels
        from distillguard.detect.hunt import read_accounts, read_event_log

        if not 0 <= target_fpr < 1:
            raise typer.BadParameter("target FPR must be in [0, 1)")
        result = run_calibration(
            read_event_log(source),
            read_accounts(accounts),
            labels=read_labels(labels) if labels else None,
            target_fpr=target_fpr,
            base=_load_config(config),
        )
        result.config.save(out)
        typer.echo(json.dumps(result.summary(), indent=2))
        typer.echo(f"wrote {out}")

    @app.command()
    def detect(
        db: Annotated[str, typer.Option("--db", help="Shared event log (PostgreSQL URL or SQLite path)")],
        tier_store: Annotated[
            str, typer.Option("--tier-store", help="redis://... or postgresql://...?table=dg_tiers")
        ] = "redis://127.0.0.1:6379/0",
        interval: Annotated[float, typer.Option(help="Seconds between assessments")] = 5.0,
        config: Annotated[
            str | None, typer.Option("--config", help="Thresholds file from `calibrate`")
        ] = None,
        accounts: Annotated[str | None, typer.Option("--accounts", help="AccountInfo JSONL")] = None,
        once: Annotated[bool, typer.Option(help="Catch up with the log, publish once, exit")] = False,
        poll: Annotated[float, typer.Option(help="Seconds between polls of the log")] = 1.0,
    ) -> None:
        """Tail the shared event log by seq, detect, and publish tiers (several gateway replicas)."""
        from distillguard.detect.online import tail_and_publish

        tail_and_publish(
            db,
            tier_store,
            config=_load_config(config),
            interval_s=interval,
            poll_s=poll,
            accounts_path=accounts,
            once=once,
        )
