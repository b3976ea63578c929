"""Analyst labels (what `distillguard calibrate` learns from) and the audit log of actions.

A label is the latest verdict on an account: "attack" (a flag confirmed) or "legit" (a flag
dismissed). `export_labels` writes exactly the JSONL that `detect.calibrate.read_labels`
reads ({"account_id", "label"}, plus who/when for people). Every analyst action, labels and
overrides alike, appends one row to the audit log: who, when, what, on which subject.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Literal

import msgspec

from distillguard.console.state import StateDB

Label = Literal["attack", "legit"]
LABELS: tuple[Label, ...] = ("attack", "legit")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS console_labels (
        account_id TEXT PRIMARY KEY, label TEXT NOT NULL, campaign_id TEXT,
        by_user TEXT NOT NULL, at REAL NOT NULL, note TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS console_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL,
        org_id TEXT, detail TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS console_audit_subject ON console_audit (subject_id)",
)


class AccountLabel(msgspec.Struct, kw_only=True, frozen=True):
    account_id: str
    label: Label
    by: str
    at: float
    campaign_id: str | None = None
    note: str = ""


class AuditEntry(msgspec.Struct, kw_only=True, frozen=True):
    id: int
    at: float
    actor: str
    action: str  # confirm | dismiss | set_tier | ban | unban | clear_override
    subject_kind: str  # account | org | campaign
    subject_id: str
    org_id: str | None = None
    detail: str = ""


class LabelStore:
    def __init__(self, db: StateDB) -> None:
        self.db = db
        db.script(_SCHEMA)

    # --- labels -------------------------------------------------------------------------
    def set_labels(
        self,
        account_ids: list[str],
        label: Label,
        *,
        by: str,
        campaign_id: str | None = None,
        note: str = "",
        now: float | None = None,
    ) -> None:
        if label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, not {label!r}")
        now = time.time() if now is None else now
        with self.db.tx() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO console_labels (account_id, label, campaign_id, by_user, at, note) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(a, label, campaign_id, by, now, note) for a in account_ids],
            )

    def get(self, account_id: str) -> AccountLabel | None:
        found = self.labels([account_id])
        return found.get(account_id)

    def labels(self, account_ids: list[str] | None = None) -> dict[str, AccountLabel]:
        sql = "SELECT account_id, label, by_user, at, campaign_id, note FROM console_labels"
        if account_ids is None:
            rows = self.db.query(sql)
        else:
            rows = []
            for i in range(0, len(account_ids), 500):
                chunk = account_ids[i : i + 500]
                rows += self.db.query(f"{sql} WHERE account_id IN ({','.join('?' * len(chunk))})", chunk)
        return {
            r[0]: AccountLabel(account_id=r[0], label=r[1], by=r[2], at=r[3], campaign_id=r[4], note=r[5])
            for r in rows
        }

    def export_labels(self, path: str | Path) -> int:
        """Write the labels as JSONL for `distillguard calibrate --labels`; returns the count."""
        labels = sorted(self.labels().values(), key=lambda lb: lb.account_id)
        lines = [
            json.dumps(
                {
                    "account_id": lb.account_id,
                    "label": lb.label,
                    "by": lb.by,
                    "at": lb.at,
                    "campaign_id": lb.campaign_id,
                }
            )
            for lb in labels
        ]
        Path(path).write_text("".join(line + "\n" for line in lines))
        return len(lines)

    # --- audit --------------------------------------------------------------------------
    def audit(
        self,
        actor: str,
        action: str,
        subject_kind: str,
        subject_id: str,
        *,
        org_id: str | None = None,
        detail: str = "",
        now: float | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO console_audit (at, actor, action, subject_kind, subject_id, org_id, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (time.time() if now is None else now, actor, action, subject_kind, subject_id, org_id, detail),
        )

    def audit_log(
        self,
        *,
        subject_ids: list[str] | None = None,
        org_id: str | None = None,
        exclude_actions: tuple[str, ...] = (),
        limit: int = 200,
    ) -> list[AuditEntry]:
        """Newest first; `org_id` keeps a scoped viewer to its own org's entries."""
        where, params = [], []
        if subject_ids is not None:
            if not subject_ids:
                return []
            where.append(f"subject_id IN ({','.join('?' * len(subject_ids))})")
            params += subject_ids
        if org_id is not None:
            where.append("org_id = ?")
            params.append(org_id)
        if exclude_actions:
            where.append(f"action NOT IN ({','.join('?' * len(exclude_actions))})")
            params += exclude_actions
        sql = "SELECT id, at, actor, action, subject_kind, subject_id, org_id, detail FROM console_audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
        return [
            AuditEntry(
                id=r[0],
                at=r[1],
                actor=r[2],
                action=r[3],
                subject_kind=r[4],
                subject_id=r[5],
                org_id=r[6],
                detail=r[7],
            )
            for r in rows
        ]
