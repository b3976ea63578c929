"""`distillguard keys|accounts|orgs ...`: manage API keys and the metadata detection uses.

Every command takes `--db` (default: `DG_DATABASE`, else ./distillguard.db): a SQLite
path, `sqlite:///path` or `postgresql://...[?schema=name]`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from distillguard.accounts.registry import SqlAccountRegistry

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: path, sqlite:///path or postgresql://... "
        "(default: $DG_DATABASE or ./distillguard.db)",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object per line instead of a table.")]
MetaOption = Annotated[
    list[str] | None, typer.Option("--meta", help="Metadata KEY=VALUE (repeatable; merged into existing).")
]


def _registry(db: str | None, *, check_pepper: bool = True) -> SqlAccountRegistry:
    """The registry for --db; checks the pepper up front unless the command only reads metadata."""
    from distillguard.accounts.registry import PepperMismatch, open_registry

    try:
        registry = open_registry(db)
        if check_pepper:
            registry.check_pepper()
        return registry
    except PepperMismatch as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # unreachable server, unreadable file: one clear line
        typer.echo(f"error: cannot open database {db or '(default)'}: {exc}", err=True)
        raise typer.Exit(2) from None


def _parse_meta(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    meta = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--meta")
        meta[key] = value
    return meta


def _when(ts: float | None) -> str:
    if not ts:
        return ""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _print_rows(items: list[Any], columns: list[tuple[str, str]], as_json: bool, title: str) -> None:
    """A rich table, or JSON lines (for scripts) with --json."""
    import msgspec

    if as_json:
        for item in items:
            typer.echo(msgspec.json.encode(item).decode())
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{title} ({len(items)})")
    for header, _ in columns:
        table.add_column(header)
    for item in items:
        cells = []
        for _, attr in columns:
            value = getattr(item, attr)
            if attr in ("created_at", "revoked_at"):
                value = _when(value)
            elif isinstance(value, dict):
                value = json.dumps(value, sort_keys=True) if value else ""
            cells.append("" if value is None else str(value))
        table.add_row(*cells)
    Console().print(table)


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="Create, list and revoke API keys (stored only as hashes).", no_args_is_help=True)
    accounts = typer.Typer(help="Account metadata used by detection.", no_args_is_help=True)
    orgs = typer.Typer(help="Org metadata (verified, allowlisted partners).", no_args_is_help=True)
    app.add_typer(keys, name="keys")
    app.add_typer(accounts, name="accounts")
    app.add_typer(orgs, name="orgs")

    @keys.command("create")
    def keys_create(
        account: Annotated[str, typer.Option("--account", "-a", help="Account the key belongs to.")],
        org: Annotated[str | None, typer.Option("--org", "-o", help="Org (default: the account's).")] = None,
        name: Annotated[str, typer.Option("--name", help="A label, e.g. 'ci' or 'prod'.")] = "",
        db: DbOption = None,
    ) -> None:
        """Create a key and print it once: it cannot be shown again."""
        with _registry(db) as registry:
            try:
                raw, record = registry.create_key(account, org, name=name)
            except ValueError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from None
        typer.echo(
            f"created key {record.key_id} for account {record.account_id} (org {record.org_id or '-'}); "
            "store it now, it is not shown again:",
            err=True,
        )
        typer.echo(raw)

    @keys.command("list")
    def keys_list(
        account: Annotated[str | None, typer.Option("--account", "-a")] = None,
        org: Annotated[str | None, typer.Option("--org", "-o")] = None,
        active: Annotated[bool, typer.Option("--active", help="Hide revoked keys.")] = False,
        as_json: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        """List keys (ids, owners, dates; never secrets)."""
        import msgspec

        with _registry(db) as registry:
            records = registry.list_keys(account_id=account, org_id=org, include_revoked=not active)
        if as_json:  # the hash stays out of listings too
            for r in records:
                data = msgspec.structs.asdict(r)
                data.pop("secret_hash")
                typer.echo(json.dumps(data))
            return
        columns = [("key id", "key_id"), ("account", "account_id"), ("org", "org_id"), ("name", "name")]
        columns += [("created", "created_at"), ("revoked", "revoked_at")]
        _print_rows(records, columns, False, "API keys")

    @keys.command("revoke")
    def keys_revoke(
        key_id: Annotated[str, typer.Argument(help="The key id (dg-<key id>-...).")], db: DbOption = None
    ) -> None:
        """Revoke a key; gateways stop accepting it within their key refresh interval."""
        from distillguard.accounts.keys import parse_key

        parsed = parse_key(key_id)  # accept a whole raw key too
        key_id = parsed[0] if parsed else key_id
        with _registry(db) as registry:
            if registry.revoke_key(key_id):
                typer.echo(f"revoked {key_id}")
                return
            record = registry.get_key(key_id)
        typer.echo(f"error: key {key_id} {'is already revoked' if record else 'does not exist'}", err=True)
        raise typer.Exit(1)

    @accounts.command("set")
    def accounts_set(
        account: Annotated[str, typer.Argument(help="Account id (created if unknown).")],
        org: Annotated[str | None, typer.Option("--org")] = None,
        country: Annotated[str | None, typer.Option("--country", help="ISO country code.")] = None,
        payment: Annotated[
            str | None, typer.Option("--payment", help="Payment method id; stored only as a keyed hash.")
        ] = None,
        verified: Annotated[bool | None, typer.Option("--verified/--unverified")] = None,
        email_domain: Annotated[str | None, typer.Option("--email-domain")] = None,
        signup_ip: Annotated[str | None, typer.Option("--signup-ip")] = None,
        created_at: Annotated[
            str | None, typer.Option("--created-at", help="Unix seconds or ISO 8601.")
        ] = None,
        meta: MetaOption = None,
        db: DbOption = None,
    ) -> None:
        """Create or update an account's metadata (only the options given change)."""
        from distillguard.accounts.importer import parse_time

        changes: dict[str, Any] = {
            k: v
            for k, v in {
                "org_id": org,
                "country": country,
                "payment_fingerprint": payment,
                "verified": verified,
                "email_domain": email_domain,
                "signup_ip": signup_ip,
                "metadata": _parse_meta(meta),
            }.items()
            if v is not None
        }
        if created_at is not None:
            try:
                changes["created_at"] = parse_time(created_at)
            except ValueError:
                raise typer.BadParameter(f"not a time: {created_at!r}", param_hint="--created-at") from None
        with _registry(db) as registry:
            info = registry.update_account(account, **changes)
            if info.org_id and registry.get_org(info.org_id) is None:
                registry.update_org(info.org_id)
        typer.echo(
            f"account {info.account_id}: org={info.org_id or '-'} country={info.country or '-'} "
            f"verified={info.verified} payment={'set' if info.payment_fingerprint else '-'}"
        )

    @accounts.command("list")
    def accounts_list(
        org: Annotated[str | None, typer.Option("--org")] = None,
        as_json: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        """List accounts with their detection metadata."""
        with _registry(db, check_pepper=False) as registry:
            items = registry.list_accounts(org_id=org)
        columns = [
            ("account", "account_id"),
            ("org", "org_id"),
            ("created", "created_at"),
            ("country", "country"),
        ]
        columns += [("payment fp", "payment_fingerprint"), ("verified", "verified"), ("metadata", "metadata")]
        _print_rows(items, columns, as_json, "accounts")

    @accounts.command("import")
    def accounts_import(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".json, .jsonl or .csv")],
        db: DbOption = None,
    ) -> None:
        """Import accounts (and, from a {"accounts": [...], "orgs": [...]} JSON file, orgs too)."""
        from distillguard.accounts.importer import ImportFileError, load_accounts, load_orgs

        try:
            account_list = list(load_accounts(file))
            org_list = list(load_orgs(file)) if file.suffix.lower() == ".json" else []
        except ImportFileError as exc:  # validate everything before writing anything
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        with _registry(db) as registry:
            for o in org_list:
                registry.upsert_org(o)
            n = registry.upsert_accounts(account_list)
            for org_id in {a.org_id for a in account_list if a.org_id} - {o.org_id for o in org_list}:
                if registry.get_org(org_id) is None:
                    registry.update_org(org_id)
        typer.echo(
            f"imported {n} accounts" + (f" and {len(org_list)} orgs" if org_list else "") + f" from {file}"
        )

    @orgs.command("set")
    def orgs_set(
        org: Annotated[str, typer.Argument(help="Org id (created if unknown).")],
        name: Annotated[str | None, typer.Option("--name")] = None,
        verified: Annotated[bool | None, typer.Option("--verified/--unverified")] = None,
        allowlisted: Annotated[
            bool | None,
            typer.Option("--allowlisted/--not-allowlisted", help="Verified partner: never enforced against."),
        ] = None,
        created_at: Annotated[str | None, typer.Option("--created-at")] = None,
        meta: MetaOption = None,
        db: DbOption = None,
    ) -> None:
        """Create or update an org (only the options given change)."""
        from distillguard.accounts.importer import parse_time

        changes: dict[str, Any] = {
            k: v
            for k, v in {
                "name": name,
                "verified": verified,
                "allowlisted": allowlisted,
                "metadata": _parse_meta(meta),
            }.items()
            if v is not None
        }
        if created_at is not None:
            changes["created_at"] = parse_time(created_at)
        with _registry(db) as registry:
            info = registry.update_org(org, **changes)
        typer.echo(
            f"org {info.org_id}: name={info.name or '-'} verified={info.verified} "
            f"allowlisted={info.allowlisted}"
        )

    @orgs.command("list")
    def orgs_list(as_json: JsonOption = False, db: DbOption = None) -> None:
        """List orgs."""
        with _registry(db, check_pepper=False) as registry:
            items = registry.list_orgs()
        columns = [("org", "org_id"), ("name", "name"), ("created", "created_at"), ("verified", "verified")]
        columns += [("allowlisted", "allowlisted"), ("metadata", "metadata")]
        _print_rows(items, columns, as_json, "orgs")

    @orgs.command("import")
    def orgs_import(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".json, .jsonl or .csv")],
        db: DbOption = None,
    ) -> None:
        """Import orgs from a file."""
        from distillguard.accounts.importer import ImportFileError, load_orgs

        try:
            org_list = list(load_orgs(file))
        except ImportFileError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        with _registry(db) as registry:
            for o in org_list:
                registry.upsert_org(o)
        typer.echo(f"imported {len(org_list)} orgs from {file}")
