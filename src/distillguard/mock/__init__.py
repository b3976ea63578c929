"""The mock upstream: a local OpenAI- and Anthropic-compatible model server (docs/mock.md).

`start_mock`, `run_mock_in_thread` and `MockServer` are re-exported lazily, so importing the
CLI (which imports `distillguard.mock.commands`) does not pull in aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distillguard.mock.server import MockServer, run_mock_in_thread, start_mock

__all__ = ["MockServer", "run_mock_in_thread", "start_mock"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from distillguard.mock import server

        return getattr(server, name)
    raise AttributeError(name)
