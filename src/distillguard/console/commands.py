"""`distillguard console` (serve, admin users, labels), `distillguard report`, `distillguard export stix`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from distillguard.console.data import ConsoleData

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Event log: SQLite path or URL, postgresql://..., or events.jsonl/.parquet"),
]
StateOption = Annotated[
    str | None,
    typer.Option(
        "--state",
        envvar="DG_CONSOLE_STATE",
        help="Console state SQLite file (admins, sessions, labels, audit). Default: the --db file "
        "when it is SQLite, else ./distillguard-console.db",
    ),
]
AccountsOption = Annotated[
    str | None,
    typer.Option("--accounts", help="AccountInfo JSONL (default: accounts.jsonl beside events.jsonl)"),
]
ConfigOption = Annotated[
    str | None, typer.Option("--config", help="Detector thresholds file from `calibrate`")
]

console_app = typer.Typer(help="The analyst web console.", no_args_is_help=False, invoke_without_command=True)
admin_app = typer.Typer(help="Console users (separate from API keys).", no_args_is_help=True)
labels_app = typer.Typer(help="Analyst labels.", no_args_is_help=True)
export_app = typer.Typer(help="Export indicators for sharing.", no_args_is_help=True)
console_app.add_typer(admin_app, name="admin")
console_app.add_typer(labels_app, name="labels")


def _state_path(db: str | None, state: str | None) -> str:
    from distillguard.console.state import default_state_path

    return state or default_state_path(db)


def _load(db: str | None, accounts: str | None, config: str | None) -> ConsoleData:
    """Hunt over the log once with a progress display; returns ConsoleData."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from distillguard.console.standalone import load_console_data
    from distillguard.events.open import default_database, is_postgres_url, sqlite_path

    target = db or default_database()
    err = Console(stderr=True)
    if (
        not is_postgres_url(target)
        and sqlite_path(target) != ":memory:"
        and not Path(sqlite_path(target)).exists()
    ):
        err.print(
            f"[red]error:[/red] no event log at {target} (pass --db; `distillguard simulate` writes one)"
        )
        raise typer.Exit(2)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err
    ) as progress:
        task = progress.add_task(f"reading {target} and running detection", total=None)

        def tick(n: int, _ts: float) -> None:
            progress.update(task, description=f"reading {target} and running detection: {n:,} events")

        try:
            data = load_console_data(target, accounts_path=accounts, config_path=config, progress=tick)
        except FileNotFoundError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
    a = data.assessment()
    err.print(
        f"{data.index.events:,} events, {len(data.index.accounts):,} accounts; "
        f"{len(a.accounts):,} accounts and {len(a.campaigns):,} campaigns flagged"
    )
    return data


@console_app.callback()
def console(
    ctx: typer.Context,
    db: DbOption = None,
    state: StateOption = None,
    accounts: AccountsOption = None,
    config: ConfigOption = None,
    overrides: Annotated[
        str,
        typer.Option("--overrides", envvar="DG_OVERRIDES_DB", help="Overrides SQLite file the gateway reads"),
    ] = "distillguard-overrides.sqlite",
    host: Annotated[str, typer.Option(help="Listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen port")] = 8090,
    secure_cookies: Annotated[bool, typer.Option(help="Mark cookies Secure (behind HTTPS)")] = False,
    follow: Annotated[
        bool, typer.Option(help="Keep reading the log and re-assessing (a live console beside a gateway)")
    ] = False,
    interval: Annotated[float, typer.Option(help="With --follow: seconds between assessments")] = 5.0,
) -> None:
    """Serve the analyst console against an event log (detection runs once at start)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"db": db, "state": state, "accounts": accounts, "config": config}
        return
    from aiohttp import web

    from distillguard.console.app import create_console_app, standalone_app
    from distillguard.console.auth import Auth
    from distillguard.console.state import StateDB
    from distillguard.enforce.overrides import SQLiteOverrideStore

    state_db = StateDB(_state_path(db, state))
    if not Auth(state_db).list_users():
        typer.echo(
            f"warning: no console users in {state_db.path}; create one with "
            f"`distillguard console admin create NAME --state {state_db.path}`",
            err=True,
        )
    data = _load(db, accounts, config)
    if follow:
        from distillguard.console.standalone import Follower

        Follower(data, interval_s=interval).start()
    app = standalone_app(
        create_console_app(
            data, state=state_db, overrides=SQLiteOverrideStore(overrides), secure_cookies=secure_cookies
        )
    )
    typer.echo(f"distillguard console on http://{host}:{port}/console/ (state: {state_db.path})")
    web.run_app(app, host=host, port=port, print=None, access_log=None)


def _ctx_state(ctx: typer.Context, state: str | None) -> str:
    parent = ctx.obj or {}
    return _state_path(parent.get("db"), state or parent.get("state"))


@admin_app.command("create")
def admin_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[str, typer.Option(help="admin | analyst | viewer")] = "admin",
    org: Annotated[str | None, typer.Option("--org", help="Limit an analyst or viewer to this org")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin (scripts)")] = False,
    state: StateOption = None,
) -> None:
    """Create a console user (asks for the password)."""
    from distillguard.console.auth import Auth, AuthError
    from distillguard.console.state import StateDB

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    path = _ctx_state(ctx, state)
    try:
        user = Auth(StateDB(path)).create_user(username, password, role=role, org_id=org)
    except AuthError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    scope = f", org {user.org_id}" if user.org_id else ""
    typer.echo(f"created {user.role} {user.username}{scope} in {path}")


@admin_app.command("list")
def admin_list(ctx: typer.Context, state: StateOption = None) -> None:
    """List console users."""
    from distillguard.console.auth import Auth
    from distillguard.console.state import StateDB

    for user in Auth(StateDB(_ctx_state(ctx, state))).list_users():
        typer.echo(f"{user.username}\t{user.role}\t{user.org_id or '*'}")


@admin_app.command("delete")
def admin_delete(ctx: typer.Context, username: str, state: StateOption = None) -> None:
    """Delete a console user and end their sessions."""
    from distillguard.console.auth import Auth
    from distillguard.console.state import StateDB

    if not Auth(StateDB(_ctx_state(ctx, state))).delete_user(username):
        typer.echo(f"no user {username!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"deleted {username}")


@labels_app.command("export")
def labels_export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="JSONL for `distillguard calibrate --labels`")] = Path(
        "labels.jsonl"
    ),
    state: StateOption = None,
) -> None:
    """Write analyst labels (confirmed = attack, dismissed = legit) for calibrate."""
    from distillguard.console.labels import LabelStore
    from distillguard.console.state import StateDB

    n = LabelStore(StateDB(_ctx_state(ctx, state))).export_labels(out)
    typer.echo(f"{n} labels -> {out}")


def _campaign_ids(data: ConsoleData, campaign: str) -> list[str]:
    from distillguard.detect.api import Tier

    campaigns = data.assessment().campaigns
    if campaign == "all":
        return sorted(c for c, f in campaigns.items() if f.tier >= Tier.SUSPECT)
    if campaign not in campaigns:
        known = ", ".join(sorted(campaigns)) or "none"
        typer.echo(f"error: no campaign {campaign!r} in this log (found: {known})", err=True)
        raise typer.Exit(2)
    return [campaign]


def report(
    campaign: Annotated[
        str, typer.Argument(help="Campaign id (e.g. camp-00001) or 'all' (SUSPECT and above)")
    ],
    db: DbOption = None,
    out: Annotated[Path, typer.Option("--out", help="Output directory")] = Path("out/evidence"),
    accounts: AccountsOption = None,
    config: ConfigOption = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also print report.pdf (needs /usr/bin/chromium)")
    ] = False,
) -> None:
    """Write a campaign's evidence: report.md, report.html and stix.json (and report.pdf)."""
    from distillguard.console.evidence import render_pdf, write_evidence

    data = _load(db, accounts, config)
    for cid in _campaign_ids(data, campaign):
        view = data.campaign(cid, None, examples=10)
        if view is None:
            continue
        paths = write_evidence(view, out, data)
        if pdf:
            try:
                render_pdf(paths["html"], paths["html"].with_suffix(".pdf"))
                paths["pdf"] = paths["html"].with_suffix(".pdf")
            except RuntimeError as exc:
                typer.echo(f"warning: no PDF: {exc}", err=True)
        typer.echo(f"{cid}: " + ", ".join(str(p) for p in paths.values()))


@export_app.command("stix")
def export_stix(
    campaign: Annotated[str, typer.Argument(help="Campaign id or 'all' (SUSPECT and above)")],
    db: DbOption = None,
    out: Annotated[
        Path, typer.Option("--out", help="Bundle file (one campaign) or directory ('all')")
    ] = Path("out/stix"),
    accounts: AccountsOption = None,
    config: ConfigOption = None,
) -> None:
    """Export a campaign's indicators as a STIX 2.1 bundle."""
    from distillguard.console.stix import campaign_bundle

    data = _load(db, accounts, config)
    ids = _campaign_ids(data, campaign)
    for cid in ids:
        view = data.campaign(cid, None)
        if view is None:
            continue
        target = out if (campaign != "all" and out.suffix == ".json") else out / f"{cid}.stix.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        bundle = campaign_bundle(view)
        target.write_text(bundle.serialize(pretty=True) + "\n")
        typer.echo(f"{cid}: {len(view.indicators)} indicators -> {target}")


def register(app: typer.Typer) -> None:
    app.add_typer(console_app, name="console")
    app.command("report")(report)
    app.add_typer(export_app, name="export")
