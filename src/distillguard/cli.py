"""The `distillguard` command.

Each area of the package owns its commands in `<area>/commands.py`, which defines
`register(app)`. This file only assembles them, so adding a command never means
editing a shared file. Command modules import their heavy dependencies lazily inside
the command functions, so `distillguard --help` stays fast.
"""

from __future__ import annotations

import importlib

import typer

# Order here is the order in `--help`.
COMMAND_MODULES = (
    "distillguard.gateway.commands",  # serve
    "distillguard.mock.commands",  # mock-upstream
    "distillguard.accounts.commands",  # keys, accounts, orgs
    "distillguard.sim.commands",  # simulate
    "distillguard.sim.bench_commands",  # bench detect
    "distillguard.detect.commands",  # detect, hunt, calibrate
    "distillguard.enforce.commands",  # override, policy
    "distillguard.console.commands",  # console, report, export
    "distillguard.demo",  # demo (the main job)
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="distillguard",
        help="Detect and stop distillation attacks at the edge of an LLM API.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root() -> None:
        """Detect and stop distillation attacks at the edge of an LLM API."""

    @app.command()
    def version() -> None:
        """Print the distillguard version."""
        from distillguard import __version__

        typer.echo(__version__)

    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # area not built yet
                continue
            raise
        module.register(app)
    return app


def main() -> None:
    build_app()()
