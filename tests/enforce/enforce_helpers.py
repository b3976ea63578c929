"""Shared helpers: request contexts and a dict-backed tier store (until the detector's lands)."""

from __future__ import annotations

import socket
import time
from typing import Any

from distillguard.accounts.principal import Principal
from distillguard.detect.api import Tier, TierEntry
from distillguard.events.schema import RequestEvent
from distillguard.gateway.pipeline import RequestContext


class DictTierStore:
    def __init__(self, entries: dict[str, TierEntry] | None = None) -> None:
        self.entries = dict(entries or {})

    def get(self, account_id: str) -> TierEntry | None:
        return self.entries.get(account_id)

    def publish(self, entries: dict[str, TierEntry]) -> None:
        self.entries.update(entries)


def entry(tier: Tier, *reasons: str, campaign: str | None = None) -> TierEntry:
    return TierEntry(tier=tier, reasons=list(reasons), campaign_id=campaign)


def make_ctx(
    account: str = "acct_1",
    org: str = "org_1",
    key: str = "key_1",
    flavor: str = "openai",
    body: dict[str, Any] | None = None,
) -> RequestContext:
    endpoint = "/v1/messages" if flavor == "anthropic" else "/v1/chat/completions"
    return RequestContext(
        request_id=f"req_{time.monotonic_ns()}",
        flavor=flavor,  # type: ignore[arg-type]
        endpoint=endpoint,
        body=body if body is not None else {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        headers={},
        client_ip="127.0.0.1",
        principal=Principal(key_id=key, account_id=account, org_id=org),
        event=RequestEvent(request_id="r", ts_start=time.time(), account_id=account, org_id=org),
        upstream_name="default",
    )


def redis_up(port: int = 6379) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
