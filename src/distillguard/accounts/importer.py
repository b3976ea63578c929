"""Reading account and org lists that providers already have: JSON, JSONL or CSV.

Rows are normalised before validation so that exports from billing or CRM systems load
as they are: `payment` is an alias of `payment_fingerprint` (raw values get hashed by the
registry), `created_at` may be unix seconds or ISO 8601, booleans may be true/false,
yes/no or 1/0, and unknown columns become string metadata.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from distillguard.events.schema import AccountInfo, OrgInfo

T = TypeVar("T", AccountInfo, OrgInfo)

_ALIASES = {
    "payment": "payment_fingerprint",
    "account": "account_id",
    "org": "org_id",
    "email": "email_domain",
}
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


class ImportFileError(ValueError):
    """A row that cannot be imported; the message names the file and row."""


def parse_time(value: Any) -> float:
    """Unix seconds from a number, a numeric string or an ISO 8601 date/time (UTC if naive)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if not text:
        return 0.0
    try:
        return float(text)
    except ValueError:
        pass
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _normalise(row: dict[str, Any], type_: type[T]) -> dict[str, Any]:
    fields = set(type_.__struct_fields__)
    out: dict[str, Any] = {}
    metadata: dict[str, str] = dict(row.get("metadata") or {})
    for raw_name, value in row.items():
        name = _ALIASES.get(raw_name.strip().lower(), raw_name.strip().lower())
        if name == "metadata":
            continue
        if name not in fields:
            if value not in (None, ""):
                metadata[raw_name] = str(value)
            continue
        if value is None or (
            isinstance(value, str) and value.strip() == "" and name not in ("org_id", "name")
        ):
            continue  # empty cell: keep the default
        if name == "created_at":
            value = parse_time(value)
        elif name in ("verified", "allowlisted"):
            value = parse_bool(value)
        elif isinstance(value, str):
            value = value.strip()
        out[name] = value
    out["metadata"] = metadata
    return out


def _rows(path: Path, section: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location, row) pairs from a .json, .jsonl or .csv file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as f:
            for i, row in enumerate(csv.DictReader(f), start=2):  # row 1 is the header
                yield f"{path}:{i}", dict(row)
    elif suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as f:
            for i, line in enumerate(f, start=1):
                if line.strip():
                    yield f"{path}:{i}", _object(json.loads(line), f"{path}:{i}")
    elif suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            data = data.get(section, [])
        if not isinstance(data, list):
            raise ImportFileError(f"{path}: expected a list of objects or {{{section!r}: [...]}}")
        for i, item in enumerate(data):
            yield f"{path}[{i}]", _object(item, f"{path}[{i}]")
    else:
        raise ImportFileError(f"{path}: expected .json, .jsonl or .csv")


def _object(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ImportFileError(f"{where}: expected an object, got {type(item).__name__}")
    return item


def _load(path: str | Path, type_: type[T], section: str) -> Iterator[T]:
    path = Path(path)
    key = "account_id" if type_ is AccountInfo else "org_id"
    try:
        for where, row in _rows(path, section):
            try:
                item = msgspec.convert(_normalise(row, type_), type_)
            except (msgspec.ValidationError, ValueError) as exc:
                raise ImportFileError(f"{where}: {exc}") from None
            if not getattr(item, key):
                raise ImportFileError(f"{where}: {key} is empty")
            yield item
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{path}: invalid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not UTF-8 text: {exc}") from None


def load_accounts(path: str | Path) -> Iterator[AccountInfo]:
    """Accounts from a file; a .json file may be a list or {"accounts": [...], "orgs": [...]}."""
    return _load(path, AccountInfo, "accounts")


def load_orgs(path: str | Path) -> Iterator[OrgInfo]:
    return _load(path, OrgInfo, "orgs")
