"""`distillguard override ...` and `distillguard policy ...`."""

from __future__ import annotations

from pathlib import Path

import typer

DEFAULT_DB = "distillguard-overrides.sqlite"

override_app = typer.Typer(
    help="Manual overrides per account or org (beat the detector).", no_args_is_help=True
)
policy_app = typer.Typer(help="Check and show an enforcement policy file.", no_args_is_help=True)

DbOption = typer.Option(DEFAULT_DB, "--db", envvar="DG_OVERRIDES_DB", help="Overrides SQLite file.")


def _subject(account: str | None, org: str | None) -> tuple[str, str]:
    if bool(account) == bool(org):
        raise typer.BadParameter("give exactly one of --account or --org")
    return ("account", account) if account else ("org", org)  # type: ignore[return-value]


@override_app.command("set")
def override_set(
    account: str | None = typer.Option(None, "--account", help="Account id."),
    org: str | None = typer.Option(None, "--org", help="Org id."),
    tier: str | None = typer.Option(None, "--tier", help="Pin a tier: NORMAL..CONFIRMED."),
    action: list[str] | None = typer.Option(
        None, "--action", help="Pin actions (repeatable): allow, block, verify, rate_limit, ..."
    ),
    note: str = typer.Option("", "--note", help="Why (ticket, analyst)."),
    ttl: float | None = typer.Option(None, "--ttl", help="Expire after this many seconds."),
    db: Path = DbOption,
) -> None:
    """Set an override: either a tier or actions."""
    from distillguard.enforce.overrides import SQLiteOverrideStore, make_override

    scope, subject = _subject(account, org)
    try:
        override = make_override(scope, subject, tier=tier, actions=action, note=note, ttl_s=ttl)  # type: ignore[arg-type]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    store = SQLiteOverrideStore(db)
    store.set(override)
    store.close()
    what = (
        f"tier {override.tier.name}"
        if override.tier is not None
        else "actions " + ",".join(override.actions or ())
    )
    typer.echo(f"override set: {scope} {subject} -> {what}")


@override_app.command("clear")
def override_clear(
    account: str | None = typer.Option(None, "--account"),
    org: str | None = typer.Option(None, "--org"),
    db: Path = DbOption,
) -> None:
    """Remove an override."""
    from distillguard.enforce.overrides import SQLiteOverrideStore

    scope, subject = _subject(account, org)
    store = SQLiteOverrideStore(db)
    removed = store.clear(scope, subject)  # type: ignore[arg-type]
    store.close()
    if not removed:
        typer.echo(f"no override for {scope} {subject}", err=True)
        raise typer.Exit(1)
    typer.echo(f"override cleared: {scope} {subject}")


@override_app.command("list")
def override_list(db: Path = DbOption) -> None:
    """List overrides."""
    import time

    from rich.console import Console
    from rich.table import Table

    from distillguard.enforce.overrides import SQLiteOverrideStore

    store = SQLiteOverrideStore(db)
    items = store.list()
    store.close()
    table = Table("scope", "subject", "tier", "actions", "note", "expires")
    now = time.time()
    for o in items:
        expires = (
            ""
            if o.expires_at is None
            else ("expired" if o.expires_at <= now else f"in {o.expires_at - now:.0f}s")
        )
        table.add_row(
            o.scope,
            o.subject_id,
            o.tier.name if o.tier is not None else "",
            ",".join(o.actions or ()),
            o.note,
            expires,
        )
    Console().print(table)


@policy_app.command("check")
def policy_check(
    path: Path | None = typer.Argument(None, help="Policy TOML; default: the packaged one."),
) -> None:
    """Validate a policy file and print what each tier does."""
    from distillguard.detect.api import Tier
    from distillguard.enforce.policy import PolicyError, load_policy

    try:
        policy = load_policy(path)
    except (PolicyError, OSError) as exc:
        typer.echo(f"invalid policy: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"policy {policy.version}" + (" (GLOBAL SHADOW MODE)" if policy.shadow else ""))
    for tier in Tier:
        rule = policy.rule_for(tier)
        shadow = " (shadow)" if rule.shadow and rule.actions else ""
        typer.echo(f"  {tier.name:<9} {', '.join(rule.actions) or '-'}{shadow}")
    for code, reason_rules in sorted(policy.reason_rules.items()):
        for reason_rule in reason_rules:
            shadow = " (shadow)" if reason_rule.shadow else ""
            typer.echo(
                f"  reason {code} from {reason_rule.min_tier.name}: {', '.join(reason_rule.actions)}{shadow}"
            )
    if policy.product_actions:
        typer.echo(f"  everyone: {', '.join(policy.product_actions)}")
    if policy.allowlist_orgs:
        typer.echo(f"  allowlisted orgs: {', '.join(sorted(policy.allowlist_orgs))}")


def register(app: typer.Typer) -> None:
    app.add_typer(override_app, name="override")
    app.add_typer(policy_app, name="policy")
