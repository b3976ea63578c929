"""RequestEvent <-> SQL row mapping, shared by the SQLite and PostgreSQL stores.

The column list is derived from the msgspec struct, so a field added to `RequestEvent`
becomes a column without touching the stores (they add missing columns on open).
Scalars map to native SQL types; `list[int]` (minhash) is a compact little-endian blob;
any other container (reasons, metadata) is JSON text.
"""

from __future__ import annotations

import sys
import typing
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from distillguard.events.schema import RequestEvent

_json_encode = msgspec.json.Encoder().encode

Kind = Literal["text", "int", "float", "bool", "ints", "json"]

_SQLITE_TYPES: dict[Kind, str] = {
    "text": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "bool": "INTEGER",
    "ints": "BLOB",
    "json": "TEXT",
}
_POSTGRES_TYPES: dict[Kind, str] = {
    "text": "TEXT",
    "int": "BIGINT",
    "float": "DOUBLE PRECISION",
    "bool": "BOOLEAN",
    "ints": "BYTEA",
    "json": "TEXT",
}

# Columns a console or detector filters on; each gets an index.
INDEXED_COLUMNS: tuple[str, ...] = (
    "ts_start",
    "account_id",
    "org_id",
    "campaign_id",
    "skeleton_hash",
    "client_ip",
)
# Columns `counts_by` may group on (an allow-list: the name is spliced into SQL).
GROUPABLE_COLUMNS: frozenset[str] = frozenset(
    {"account_id", "org_id", "key_id", "client_ip", "skeleton_hash", "campaign_id", "model", "user_agent"}
)


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool
    default: Any = None  # the struct default (None when required or defaulting to None)

    def sql_type(self, dialect: Literal["sqlite", "postgres"]) -> str:
        types = _SQLITE_TYPES if dialect == "sqlite" else _POSTGRES_TYPES
        return types[self.kind]

    def sql_definition(self, dialect: Literal["sqlite", "postgres"]) -> str:
        """`name TYPE [DEFAULT x]`: the default lets a column added to an old table read back
        as the struct default for the rows written before it existed."""
        definition = f"{self.name} {self.sql_type(dialect)}"
        literal = self._default_literal(dialect)
        return definition if literal is None else f"{definition} DEFAULT {literal}"

    def _default_literal(self, dialect: Literal["sqlite", "postgres"]) -> str | None:
        value = self.default
        if value is None or self.kind == "ints":
            return None
        if self.kind == "json":
            value = _json_encode(value).decode()
        if isinstance(value, bool):
            if dialect == "postgres":
                return "TRUE" if value else "FALSE"
            return "1" if value else "0"
        if isinstance(value, int | float):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"


def _kind_of(t: msgspec.inspect.Type) -> tuple[Kind, bool]:
    if isinstance(t, msgspec.inspect.UnionType):
        members = [m for m in t.types if not isinstance(m, msgspec.inspect.NoneType)]
        if len(members) == 1:
            return _kind_of(members[0])[0], True
        return "json", True
    if isinstance(t, msgspec.inspect.StrType | msgspec.inspect.LiteralType):
        return "text", False
    if isinstance(t, msgspec.inspect.BoolType):
        return "bool", False
    if isinstance(t, msgspec.inspect.IntType):
        return "int", False
    if isinstance(t, msgspec.inspect.FloatType):
        return "float", False
    if isinstance(t, msgspec.inspect.ListType) and isinstance(t.item_type, msgspec.inspect.IntType):
        return "ints", False
    return "json", False


def _columns() -> tuple[Column, ...]:
    info = msgspec.inspect.type_info(RequestEvent)
    assert isinstance(info, msgspec.inspect.StructType)
    cols = []
    for struct_field in info.fields:
        kind, nullable = _kind_of(struct_field.type)
        default = struct_field.default
        if struct_field.default_factory is not msgspec.NODEFAULT:
            default = struct_field.default_factory()
        elif default is msgspec.NODEFAULT:
            default = None
        cols.append(Column(struct_field.name, kind, nullable, default))
    return tuple(cols)


COLUMNS: tuple[Column, ...] = _columns()
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}


# --- value codecs ---------------------------------------------------------------------------

_LITTLE = sys.byteorder == "little"


def encode_ints(values: Sequence[int]) -> bytes:
    """Width byte (4 or 8) + little-endian unsigned ints: 512 bytes for a 128-perm minhash."""
    try:
        arr = array("I", values)
        if arr.itemsize != 4:  # pragma: no cover - exotic platforms
            raise OverflowError
    except OverflowError:
        arr = array("Q", values)
    if not _LITTLE:  # pragma: no cover
        arr.byteswap()
    return bytes([arr.itemsize]) + arr.tobytes()


def decode_ints(blob: bytes) -> list[int]:
    width = blob[0]
    arr = array("I" if width == 4 else "Q")
    if arr.itemsize != width:  # pragma: no cover - platforms where "I" is not 4 bytes
        arr = array("L" if width == 4 else "Q")
    arr.frombytes(blob[1:])
    if not _LITTLE:  # pragma: no cover
        arr.byteswap()
    return arr.tolist()


def _json_decoders() -> dict[str, Callable[[Any], Any]]:
    decoders: dict[str, Callable[[Any], Any]] = {}
    for name, hint in typing.get_type_hints(RequestEvent).items():
        if name in COLUMN_BY_NAME and COLUMN_BY_NAME[name].kind == "json":
            decoders[name] = msgspec.json.Decoder(hint).decode
    return decoders


def _make_encoders(dialect: Literal["sqlite", "postgres"]) -> list[Callable[[Any], Any] | None]:
    encoders: list[Callable[[Any], Any] | None] = []
    for col in COLUMNS:
        if col.kind == "ints":
            encoders.append(encode_ints)
        elif col.kind == "json":
            encoders.append(lambda v: _json_encode(v).decode())
        elif col.kind == "bool" and dialect == "sqlite":
            encoders.append(int)
        else:
            encoders.append(None)
    return encoders


class RowCodec:
    """Turns events into parameter tuples and result rows back into events."""

    def __init__(self, dialect: Literal["sqlite", "postgres"]) -> None:
        self._encoders = [(i, enc) for i, enc in enumerate(_make_encoders(dialect)) if enc is not None]
        json_decoders = _json_decoders()
        self._decoders: list[tuple[int, Callable[[Any], Any]]] = []
        for i, col in enumerate(COLUMNS):
            if col.kind == "ints":
                self._decoders.append((i, _nullable(decode_ints)))
            elif col.kind == "json":
                self._decoders.append((i, _nullable(json_decoders[col.name])))
            elif col.kind == "bool" and dialect == "sqlite":
                self._decoders.append((i, _nullable(bool)))

    def to_row(self, event: RequestEvent) -> list[Any]:
        row = list(msgspec.structs.astuple(event))
        for i, enc in self._encoders:
            value = row[i]
            if value is not None:
                row[i] = enc(value)
        return row

    def from_row(self, row: Sequence[Any]) -> RequestEvent:
        values = list(row)
        for i, dec in self._decoders:
            values[i] = dec(values[i])
        return RequestEvent(**dict(zip(COLUMN_NAMES, values, strict=True)))


def _nullable(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def decode(value: Any) -> Any:
        return None if value is None else fn(value)

    return decode


# --- query building -------------------------------------------------------------------------


# Columns the stores filter on by equality (also the keyword filters of `iter_events`).
FILTER_COLUMNS: tuple[str, ...] = (
    "account_id",
    "org_id",
    "key_id",
    "client_ip",
    "skeleton_hash",
    "campaign_id",
)


@dataclass(frozen=True)
class EventFilter:
    """The filters a console or detector needs; every part optional, all ANDed."""

    since: float | None = None  # ts_start >= since
    until: float | None = None  # ts_start < until
    after_seq: int | None = None  # seq > after_seq (tailing)
    equals: dict[str, str] = field(default_factory=dict)  # column -> value, FILTER_COLUMNS only

    def __post_init__(self) -> None:
        unknown = set(self.equals) - set(FILTER_COLUMNS)
        if unknown:
            raise ValueError(f"cannot filter on {sorted(unknown)}; choose from {list(FILTER_COLUMNS)}")

    def where(self, placeholder: str) -> tuple[str, list[Any]]:
        """SQL WHERE clause (or "") and its parameters, using the dialect's placeholder."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            clauses.append(f"ts_start >= {placeholder}")
            params.append(self.since)
        if self.until is not None:
            clauses.append(f"ts_start < {placeholder}")
            params.append(self.until)
        if self.after_seq is not None:
            clauses.append(f"seq > {placeholder}")
            params.append(self.after_seq)
        for name in FILTER_COLUMNS:
            value = self.equals.get(name)
            if value is not None:
                clauses.append(f"{name} = {placeholder}")
                params.append(value)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def matches(self, event: RequestEvent) -> bool:
        """The same filter applied in Python (for the JSONL/Parquet readers); ignores after_seq."""
        if self.since is not None and event.ts_start < self.since:
            return False
        if self.until is not None and event.ts_start >= self.until:
            return False
        return all(value is None or getattr(event, name) == value for name, value in self.equals.items())

    def order_by(self) -> str:
        """Tailing reads in commit order (seq); everything else in time order."""
        return " ORDER BY seq" if self.after_seq is not None else " ORDER BY ts_start, seq"


def check_groupable(column: str) -> str:
    if column not in GROUPABLE_COLUMNS:
        raise ValueError(f"cannot group by {column!r}; choose one of {sorted(GROUPABLE_COLUMNS)}")
    return column


class SeqOrderedReads:
    """Reads shared by the SQL stores that number rows by `seq`.

    A store supplies `iter_with_seq`, `_scalar`, its table reference (`_table_sql`) and its
    parameter placeholder (`_placeholder`); the SQL text is the same for SQLite and PostgreSQL.
    """

    _table_sql: str
    _placeholder: str

    def _scalar(self, query: str, params: list[Any]) -> Any:
        raise NotImplementedError

    def last_seq(self) -> int:
        """The highest seq written so far (0 when empty)."""
        return int(self._scalar(f"SELECT COALESCE(MAX(seq), 0) FROM {self._table_sql}", []))

    def count(self, since: float | None = None, until: float | None = None, **filters: str) -> int:
        where, params = EventFilter(since, until, None, filters).where(self._placeholder)
        return int(self._scalar(f"SELECT COUNT(*) FROM {self._table_sql}{where}", params))

    def _counts_by_query(
        self,
        column: str,
        since: float | None,
        until: float | None,
        limit: int | None,
        filters: dict[str, str],
    ) -> tuple[str, list[Any]]:
        check_groupable(column)
        where, params = EventFilter(since, until, None, filters).where(self._placeholder)
        query = (
            f"SELECT {column}, COUNT(*) AS n FROM {self._table_sql}{where}"
            f" GROUP BY {column} ORDER BY n DESC, {column}"
        )
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        return query, params

    def iter_with_seq(
        self,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        *,
        limit: int | None = None,
        **filters: str,
    ) -> Iterator[tuple[int, RequestEvent]]:
        raise NotImplementedError

    def iter_events(
        self,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        *,
        limit: int | None = None,
        **filters: str,
    ) -> Iterator[RequestEvent]:
        """Events in time order (`ts_start`), or in seq order when tailing with `after_seq`.

        `filters`: account_id, org_id, key_id, client_ip, skeleton_hash, campaign_id.
        """
        for _, event in self.iter_with_seq(since, until, after_seq, limit=limit, **filters):
            yield event
