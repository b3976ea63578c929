"""What `distillguard demo` prints: a live panel while traffic runs, then the story."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from datetime import UTC, datetime
from typing import Any

from distillguard.demo.run import E2ERun, RunOptions, RunResult, reasons_text


def _sim_time(ts: float, start: float) -> str:
    hours = (ts - start) / 3600
    return f"day {int(hours // 24) + 1}, {datetime.fromtimestamp(ts, UTC):%H:%M} (+{hours:.1f} h)"


def _panel(run: E2ERun, started: float) -> Any:
    from rich.table import Table

    live = run.live
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right", style="bold")
    table.add_column()
    clock = run.clock() if hasattr(run, "clock") else run.sim_start
    table.add_row("simulated time", _sim_time(min(clock, run.sim.scenario.end_ts), run.sim_start))
    table.add_row("wall time", f"{time.monotonic() - started:.0f} s")
    table.add_row("requests recorded", f"{live.recorded:,} / {len(run.events):,}")
    table.add_row(
        "flagged accounts", f"{live.flagged_now()} now (SUSPECT or above), {len(live.flagged)} ever"
    )
    table.add_row("campaigns linked", f"{len(live.campaign_flags)}")
    acts = ", ".join(f"{k} {v:,}" for k, v in live.by_action.most_common()) or "none yet"
    table.add_row("enforcement", acts)
    return table


def _summary(console: Any, run: E2ERun, result: RunResult) -> None:
    from rich.table import Table

    o = result.options
    console.rule("[bold]What happened")
    console.print(
        f"{result.sent:,} requests sent through the gateway in {result.traffic_s:.0f} s "
        f"({o.speed:g}x compressed: {run.sim.scenario.days:g} simulated day(s)); "
        f"{result.events:,} recorded in {run.db_path}. Client saw: "
        + ", ".join(f"HTTP {k}: {v:,}" for k, v in sorted(result.by_status.items()))
    )
    if result.unsent:
        console.print(f"[yellow]{result.unsent:,} requests left unsent at the deadline.")
    for c in result.campaigns:
        console.print()
        console.print(
            f"[bold]Campaign {c.campaign_id}[/] ({c.strategy}, ground truth): "
            f"{c.accounts} accounts sent requests, {c.accounts_flagged} flagged."
        )
        if c.flagged_at is None:
            console.print("[red]  not flagged.")
        else:
            lead = (c.flagged_at - c.first_request) / 3600 if c.first_request else 0.0
            kind = f"as campaign {c.flag.subject_id}" if c.flag and c.flag.kind == "campaign" else "account"
            tier = c.flag.tier.name if c.flag else "?"
            console.print(
                f"  flagged {kind} at {_sim_time(c.flagged_at, run.sim_start)}, "
                f"{lead:.1f} simulated hours after its first request, tier {tier}, because:"
            )
            for reason in reasons_text(c.flag):
                console.print(f"   - [cyan]{reason.code}[/] ({reason.weight:.2f}): {reason.detail}")
        table = Table(title="harvest", title_justify="left")
        for col in ("", "requests", "answered", "completion tokens", "reasoning withheld", "tokens kept"):
            table.add_column(col, justify="right")
        for label, h in (("before the flag", c.before), ("after the flag", c.after)):
            table.add_row(
                label, f"{h.requests:,}", f"{h.served:,}", f"{h.tokens:,}",
                f"{h.reasoning_withheld:,}", f"{h.premium:,}",
            )  # fmt: skip
        console.print(table)
        if c.after_by_action:
            console.print(
                "  after the flag: " + ", ".join(f"{k} {v:,}" for k, v in c.after_by_action.most_common())
            )
    console.print()
    affected = result.legit_affected
    style = "green" if affected == 0 else "red"
    console.print(
        f"[{style}]Legitimate customers acted on: {affected} of {result.legit_accounts} "
        f"({sum(result.legit_acted.values()):,} of {result.legit_requests:,} requests); "
        f"flagged at SUSPECT or above: {len(result.legit_flagged)}."
    )


def run_demo(options: RunOptions, *, wait: bool = True) -> int:
    """Returns the exit status: 0 when the traffic ran and the summary was printed."""
    from rich.console import Console
    from rich.live import Live

    console = Console()
    run = E2ERun(options)
    try:
        with console.status("preparing") as status:
            run.prepare(lambda message: status.update(message))
            status.update("starting the mock model server and the gateway")
            url = run.start()
        stack = run.stack
        assert stack is not None
        console.print(
            f"gateway [bold]{url}[/] -> mock model server; detection "
            f"{'on' if stack.detector else 'off'}, enforcement {'on' if options.enforce else 'off'}"
            f"{' (shadow)' if options.shadow else ''}; events in {run.db_path}"
        )
        for note in stack.notes:
            console.print(f"[yellow]{note}")
        started = time.monotonic()
        with Live(_panel(run, started), console=console, refresh_per_second=4) as live:

            async def traffic() -> None:
                task = asyncio.create_task(run.traffic())
                while not task.done():
                    live.update(_panel(run, started))
                    await asyncio.sleep(0.25)
                await task

            asyncio.run(traffic())
            run.settle()
            live.update(_panel(run, started))
        console.print()
        result = run.result()
        _summary(console, run, result)
        if run.admin_password is not None:
            console.rule("[bold]Console")
            console.print(f"  {url}/console/   user [bold]admin[/]   password [bold]{run.admin_password}[/]")
        if wait and run.admin_password is not None:
            console.print("  The gateway and console stay up; Ctrl-C to stop.")
            _wait_for_interrupt()
        return 0
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    except OSError as exc:  # most often: the port is taken
        console.print(f"[red]error: {exc}[/] (another port: --port N, or --port 0 for any free one)")
        return 2
    finally:
        with console.status("stopping: flushing events, stopping the detector"):
            run.close()


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
