"""Who is calling: what an API key resolves to."""

from __future__ import annotations

import msgspec


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str
    account_id: str
    org_id: str
