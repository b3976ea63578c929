"""Allowlisted orgs from the accounts registry (`OrgInfo.allowlisted`), besides the policy's.

The decision step asks `org_id in allowlist` on every request, so the set lives in memory
and a background thread reloads it every `refresh_s`; the registry is opened in that
thread (SQLite connections stay in the thread that made them).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)


class OrgAllowlist:
    def __init__(self, load: Callable[[], Iterable[str]], refresh_s: float = 30.0) -> None:
        self._load = load
        self.refresh_s = refresh_s
        self._orgs: frozenset[str] = frozenset()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reload()

    @classmethod
    def from_database(cls, database: str, refresh_s: float = 30.0) -> OrgAllowlist:
        """`database`: what `accounts.registry.open_registry` takes (settings.database_url)."""

        def load() -> list[str]:
            from distillguard.accounts.registry import open_registry

            with open_registry(database) as registry:
                return [o.org_id for o in registry.list_orgs() if o.allowlisted]

        return cls(load, refresh_s)

    def __contains__(self, org_id: object) -> bool:
        return org_id in self._orgs

    def reload(self) -> None:
        try:
            self._orgs = frozenset(self._load())
        except Exception:  # keep the last good set: a registry hiccup must not un-allowlist partners
            log.exception("reloading allowlisted orgs failed")

    def start(self) -> OrgAllowlist:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="dg-org-allowlist", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_s):
            self.reload()

    def close(self) -> None:
        self._stop.set()
