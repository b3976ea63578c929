"""`distillguard serve`: the gateway in front of one or more model servers."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from distillguard.config import Settings
    from distillguard.events.store import EventSink
    from distillguard.gateway.auth import KeyResolver
    from distillguard.gateway.pipeline import Plugin


def load_plugins(specs: list[str], settings: Settings) -> list[Plugin]:
    """Instantiate "module:Class" specs in order; a class that takes `settings` gets them."""
    from distillguard.config import ConfigError

    plugins: list[Any] = []
    for spec in specs:
        module_name, _, attr = spec.partition(":")
        if not attr:
            raise ConfigError(f"plugin spec {spec!r} must look like 'package.module:ClassName'")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"cannot load plugin {spec!r}: {exc}") from None
        params = inspect.signature(factory).parameters
        plugins.append(factory(settings=settings) if "settings" in params else factory())
    return plugins


def open_key_resolver(settings: Settings, no_auth: bool) -> KeyResolver:
    """The accounts registry behind its in-memory cache (refreshed in the background), or,
    with --no-auth, any key accepted. Failures come back as ConfigError."""
    from distillguard.accounts.registry import open_key_resolver as open_registry_resolver
    from distillguard.gateway.auth import AllowAnyKeyResolver

    if no_auth:
        return AllowAnyKeyResolver()
    resolver: KeyResolver = open_registry_resolver(settings)
    return resolver


def open_event_sink(settings: Settings) -> EventSink:
    """The event log for `settings.database_url` (SQLite file or PostgreSQL): written, with
    fingerprints, by the event pipeline process (`event_pipeline = "process"`, started with
    the app), or by a batching writer thread in this process."""
    from distillguard.events.writer import open_sink

    writer = open_sink(settings)  # opened here either way: a bad database fails now
    if settings.event_pipeline != "process":
        return writer
    writer.close()
    from distillguard.gateway.sidecar import PipelineProcess

    return PipelineProcess(settings, None, detect=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        upstream: str = typer.Option(
            None, "--upstream", help="Model server base URL, e.g. http://127.0.0.1:9000"
        ),
        config: Path = typer.Option(None, "--config", help="TOML settings file"),
        host: str = typer.Option(None, "--host", help="Listen address (default 127.0.0.1)"),
        port: int = typer.Option(None, "--port", help="Listen port (default 8080)"),
        retention: str = typer.Option(None, "--retention", help="full | fingerprints-only | none"),
        db: str = typer.Option(None, "--db", help="Events + keys database: SQLite path/URL or postgresql://"),
        no_auth: bool = typer.Option(False, "--no-auth", help="Accept any API key (private deployments)"),
        no_detect: bool = typer.Option(False, "--no-detect", help="No in-process detector"),
        no_enforce: bool = typer.Option(False, "--no-enforce", help="No enforcement plugins"),
        no_console: bool = typer.Option(False, "--no-console", help="Do not mount the console at /console"),
        shadow: bool = typer.Option(
            False, "--shadow", help="Global shadow mode: decide and record, never act"
        ),
        policy: Path = typer.Option(None, "--policy", help="Enforcement policy TOML (default: packaged)"),
        proxy_only: bool = typer.Option(
            False, "--proxy-only", help="The bare proxy: no detection, enforcement or console"
        ),
    ) -> None:
        """Run the OpenAI- and Anthropic-compatible gateway (with detection, enforcement and
        the console at /console unless turned off)."""
        from distillguard.config import ConfigError, load_settings
        from distillguard.gateway.app import create_app, run

        try:
            settings = load_settings(
                config,
                upstream_url=upstream,
                overrides={
                    "listen_host": host,
                    "listen_port": port,
                    "retention": retention,
                    "database_url": db,
                    "policy_file": str(policy) if policy else None,
                    "detect": False if no_detect or proxy_only else None,
                    "enforce": False if no_enforce or proxy_only else None,
                    "console": False if no_console or proxy_only else None,
                    "shadow": True if shadow else None,
                },
            )
            if not settings.upstreams:
                raise ConfigError("no upstream: pass --upstream URL or configure [upstreams.NAME]")
            if settings.detect or settings.enforce or settings.console:
                from distillguard.stack import build_stack

                extra = load_plugins(settings.plugins, settings)
                stack = build_stack(settings, no_auth=no_auth, extra_plugins=extra)
                parts = [name for name, on in (("detection", stack.detector is not None),
                         ("enforcement", settings.enforce), ("console at /console", stack.console_state
                         is not None)) if on]  # fmt: skip
                typer.echo(
                    f"distillguard gateway on http://{settings.listen_host}:{settings.listen_port} "
                    f"with {', '.join(parts)}{' (shadow)' if settings.shadow else ''}; "
                    f"events -> {settings.database_url}"
                )
                for note in stack.notes:
                    typer.echo(f"note: {note}", err=True)
                run(stack.app, settings, print_fn=None)
                return
            plugins = load_plugins(settings.plugins, settings)
            keys = open_key_resolver(settings, no_auth)
            sink = open_event_sink(settings)
        except ConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        web_app = create_app(settings, sink=sink, key_resolver=keys, plugins=plugins)
        start_sink = getattr(sink, "start", None)
        if start_sink is not None:

            async def _start_sink(_app: object) -> None:
                start_sink()

            web_app.on_startup.append(_start_sink)
        close_keys = getattr(keys, "close", None)
        if close_keys is not None:

            async def _close_keys(_app: object) -> None:
                close_keys()

            web_app.on_cleanup.append(_close_keys)
        names = ", ".join(f"{n}={u.url}" for n, u in settings.upstreams.items())
        typer.echo(
            f"distillguard gateway on http://{settings.listen_host}:{settings.listen_port} -> {names} "
            f"(retention={settings.retention}, events -> {settings.database_url})"
        )
        try:
            run(web_app, settings, print_fn=None)
        except OSError as exc:  # e.g. the port is taken
            typer.echo(
                f"error: cannot listen on {settings.listen_host}:{settings.listen_port}: {exc}", err=True
            )
            raise typer.Exit(2) from None
