"""`distillguard mock-upstream`: a local OpenAI/Anthropic-compatible model server."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("mock-upstream")
    def mock_upstream(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8001, help="Port to listen on (0 picks a free one)."),
        latency_ms: float = typer.Option(0.0, help="Time to first token, in milliseconds."),
        tokens_per_second: float = typer.Option(0.0, help="Generation speed; 0 = as fast as possible."),
        seed: str = typer.Option("", help="Salt for the prompt hash: another seed gives other answers."),
    ) -> None:
        """Serve deterministic fake completions in the OpenAI and Anthropic wire formats."""
        from distillguard.mock.behaviour import MODEL_NAMES, MockOptions
        from distillguard.mock.server import MockServer, serve_forever

        def ready(server: MockServer) -> None:
            typer.echo(f"mock upstream listening on {server.url}  (OpenAI base_url {server.openai_base_url})")
            typer.echo(f"models: {', '.join(MODEL_NAMES)}")

        serve_forever(host, port, MockOptions(latency_ms, tokens_per_second, seed), on_ready=ready)
