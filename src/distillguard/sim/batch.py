"""Columnar request batches and their conversion to `RequestEvent`s.

Personas and attacks produce numpy columns (one row per request, strings as indices into a
shared `StringTable`); only the final, time-sorted pass builds Python objects, chunk by
chunk. That keeps a million events to a few seconds of Python.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import orjson

from distillguard.events.schema import RequestEvent

# api code -> (endpoint, flavor)
APIS: tuple[tuple[str, str], ...] = (
    ("/v1/chat/completions", "openai"),
    ("/v1/messages", "anthropic"),
    ("/v1/completions", "openai"),
)
API_CHAT, API_MESSAGES, API_COMPLETIONS = 0, 1, 2

# column -> (dtype, default). -1 / NaN mean "None" for optional fields.
COLUMNS: dict[str, tuple[Any, Any]] = {
    "ts": (np.float64, None),
    "account": (np.int32, None),
    "ip": (np.int32, None),
    "ua": (np.int32, None),
    "api": (np.int8, API_CHAT),
    "model": (np.int32, None),
    "stream": (np.bool_, False),
    "temperature": (np.float32, np.nan),
    "top_p": (np.float32, np.nan),
    "n": (np.int16, -1),
    "max_tokens": (np.int32, -1),
    "logprobs": (np.bool_, False),
    "top_logprobs": (np.int16, -1),
    "logit_bias": (np.bool_, False),
    "n_tools": (np.int16, 0),
    "thinking_budget": (np.int32, -1),
    "reasoning_effort": (np.int32, -1),
    "n_messages": (np.int16, 1),
    "n_user_turns": (np.int16, 1),
    "roles": (np.int32, None),
    "system": (np.int32, -1),
    "has_tool_results": (np.bool_, False),
    "prompt": (np.int32, None),
    "context_chars": (np.int32, -1),  # -1: just the prompt (+ system)
    "completion_tokens": (np.int32, 200),
    "reasoning_tokens": (np.int32, 0),
    "status": (np.int16, 200),
    "campaign": (np.int16, -1),  # index into World.campaigns; -1 = legitimate request
}

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class StringTable:
    """All strings the events reference, stored once; columns hold indices."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def intern(self, s: str) -> int:
        i = self._index.get(s)
        if i is None:
            i = len(self.values)
            self.values.append(s)
            self._index[s] = i
        return i

    def intern_many(self, strings: Sequence[str]) -> np.ndarray:
        return np.fromiter((self.intern(s) for s in strings), dtype=np.int32, count=len(strings))

    def extend(self, strings: Sequence[str]) -> np.ndarray:
        """Append without de-duplication (large prompt pools); returns their indices."""
        base = len(self.values)
        self.values.extend(strings)
        return np.arange(base, base + len(strings), dtype=np.int32)


class Batch:
    """Requests from one persona population: columns of equal length (scalars broadcast)."""

    def __init__(self, size: int, /, **columns: Any) -> None:
        n = size
        unknown = set(columns) - set(COLUMNS)
        if unknown:
            raise KeyError(f"unknown batch columns: {sorted(unknown)}")
        self.n = n
        self.columns: dict[str, np.ndarray] = {}
        for name, (dtype, default) in COLUMNS.items():
            value = columns.get(name, default)
            if value is None:
                raise ValueError(f"batch column {name!r} is required")
            arr = np.asarray(value)
            if arr.ndim == 0:
                arr = np.full(n, arr, dtype=dtype)
            elif len(arr) != n:
                raise ValueError(f"column {name!r} has {len(arr)} rows, expected {n}")
            self.columns[name] = arr.astype(dtype, copy=False)

    def __len__(self) -> int:
        return self.n


def concat(batches: Sequence[Batch]) -> dict[str, np.ndarray]:
    batches = [b for b in batches if b.n]
    if not batches:
        return {name: np.zeros(0, dtype=dtype) for name, (dtype, _) in COLUMNS.items()}
    return {name: np.concatenate([b.columns[name] for b in batches]) for name in COLUMNS}


def _opt(values: list[Any], none: Any) -> list[Any]:
    return [None if v == none else v for v in values]


def _opt_float(values: np.ndarray) -> list[float | None]:
    rounded = np.round(values.astype(np.float64), 3)
    return [None if v != v else v for v in rounded.tolist()]


def request_ids(seed: int, n: int) -> np.ndarray:
    """Opaque, deterministic 64-bit request ids (position in time order -> id)."""
    return np.random.default_rng([seed, 0x5EED]).integers(0, 2**63, size=n, dtype=np.int64)


def system_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class EventBuilder:
    """Turns sorted columns into `RequestEvent`s chunk by chunk."""

    def __init__(
        self,
        cols: dict[str, np.ndarray],
        strings: StringTable,
        account_ids: Sequence[str],
        org_ids: Sequence[str],
        key_ids: Sequence[str],
        ids: np.ndarray,
    ) -> None:
        self.cols = cols
        self.account_ids = np.array(account_ids, dtype=object)
        self.org_ids = np.array(org_ids, dtype=object)
        self.key_ids = np.array(key_ids, dtype=object)
        self.ids = ids
        self._sys_hash: dict[int, str] = {}
        self._lengths = np.fromiter(
            (len(x) for x in strings.values), dtype=np.int64, count=len(strings.values)
        )
        self._stop = strings.intern("stop")
        self._length = strings.intern("length")
        self.strings = np.array(strings.values, dtype=object)

    def events(self, order: np.ndarray, chunk: int = 65536) -> Iterator[RequestEvent]:
        for lo in range(0, len(order), chunk):
            yield from self._events(self._derive(order[lo : lo + chunk], lo))

    def json_lines(self, order: np.ndarray, chunk: int = 65536) -> Iterator[tuple[int, bytes]]:
        """(count, JSONL bytes) per chunk, straight from the columns: no event objects.

        Fields that the simulator always leaves at their default (fingerprints, enforcement,
        response text) are omitted; `event_from_json` fills the defaults back in.
        """
        for lo in range(0, len(order), chunk):
            d = self._derive(order[lo : lo + chunk], lo)
            frags = [self._json_fragments(name, d[name]) for name in _JSON_FIELDS]
            body = b"\n".join(map(_JSON_TEMPLATE.__mod__, zip(*frags, strict=True)))
            yield len(d["ts_start"]), body + b"\n" if body else b""

    def arrow_tables(self, order: np.ndarray, schema: Any, chunk: int = 65536) -> Iterator[Any]:
        """Arrow tables (the `events.io` Parquet schema) per chunk, straight from the columns."""
        import pyarrow as pa

        strings = pa.array(self.strings.tolist(), pa.string())
        tables = {
            "key": pa.array(self.key_ids.tolist(), pa.string()),
            "account": pa.array(self.account_ids.tolist(), pa.string()),
            "org": pa.array(self.org_ids.tolist(), pa.string()),
        }
        endpoints = pa.array([e for e, _ in APIS], pa.string())
        flavors = pa.array([f for _, f in APIS], pa.string())
        for lo in range(0, len(order), chunk):
            d = self._derive(order[lo : lo + chunk], lo)
            n = len(d["ts_start"])
            cols: dict[str, Any] = {}
            for name, kind in _JSON_KIND.items():
                v = d[name]
                if kind == "id":
                    cols[name] = pa.array([f"req_{x:016x}" for x in v.tolist()], pa.string())
                elif kind in tables:
                    cols[name] = tables[kind].take(pa.array(v))
                elif kind in ("str", "opt_str"):
                    cols[name] = strings.take(pa.array(np.maximum(v, 0), mask=v < 0))
                elif kind == "hash":
                    cols[name] = pa.array([self._hash(i) for i in v.tolist()], pa.string())
                elif kind == "api":
                    cols["endpoint"] = endpoints.take(pa.array(v))
                    cols["flavor"] = flavors.take(pa.array(v))
                elif kind in ("int", "bool", "float"):
                    cols[name] = pa.array(v)
                elif kind == "opt_int":
                    cols[name] = pa.array(v.astype(np.int64), mask=v == -1)
                elif kind == "opt_float":
                    cols[name] = pa.array(v, mask=np.isnan(v))
                elif kind == "error":
                    cols[name] = pa.array(
                        [ERROR_TYPES.get(x) if x != 200 else None for x in v.tolist()], pa.string()
                    )
            arrays = []
            for field in schema:
                if field.name in cols:
                    arrays.append(cols[field.name].cast(field.type))
                else:  # fields the simulator leaves at their defaults
                    arrays.append(pa.array([getattr(_DEFAULT_EVENT, field.name)] * n, field.type))
            yield pa.Table.from_arrays(arrays, schema=schema)

    # --- one chunk of derived columns (shared by both outputs) ---------------------------------------
    def _derive(self, sel: np.ndarray, pos0: int) -> dict[str, Any]:
        """Field name -> numpy array (numbers, -1/NaN for None) or index array into the string table."""
        c = {k: v[sel] for k, v in self.cols.items()}
        n = len(sel)
        ts = c["ts"]
        ok = c["status"] == 200
        completion = np.where(ok, c["completion_tokens"], 0)
        reasoning = np.where(ok, c["reasoning_tokens"], 0)
        prompt_chars = self._lengths[c["prompt"]]
        sys_idx = c["system"]
        sys_chars = np.where(sys_idx >= 0, self._lengths[np.maximum(sys_idx, 0)], 0)
        ctx_chars = c["context_chars"]
        context = np.where(ctx_chars < 0, prompt_chars, ctx_chars) + sys_chars
        # Latency: time to first byte grows with context and hidden reasoning, the end with output.
        ttfb = 0.25 + context / 400000.0 + reasoning / 90.0
        max_tok = c["max_tokens"]
        finish = np.where(
            ~ok, -1, np.where((max_tok > 0) & (completion >= max_tok), self._length, self._stop)
        )
        acct = c["account"]
        return {
            "request_id": self.ids[pos0 : pos0 + n],
            "key_id": acct,
            "account_id": acct,
            "org_id": acct,
            "ts_start": np.round(ts, 3),
            "ts_first_byte": np.where(ok, np.round(ts + ttfb, 3), np.nan),
            "ts_end": np.round(ts + np.where(ok, ttfb + completion / 70.0, 0.05), 3),
            "client_ip": c["ip"],
            "user_agent": c["ua"],
            "api": c["api"],
            "model": c["model"],
            "stream": c["stream"],
            "temperature": np.round(c["temperature"].astype(np.float64), 3),
            "top_p": np.round(c["top_p"].astype(np.float64), 3),
            "n": c["n"],
            "max_tokens": max_tok,
            "logprobs": c["logprobs"],
            "top_logprobs": c["top_logprobs"],
            "logit_bias": c["logit_bias"],
            "n_tools": c["n_tools"],
            "thinking_budget": c["thinking_budget"],
            "reasoning_effort": c["reasoning_effort"],
            "n_messages": c["n_messages"],
            "n_user_turns": c["n_user_turns"],
            "roles": c["roles"],
            "system_hash": sys_idx,
            "has_tool_results": c["has_tool_results"],
            "prompt_chars": prompt_chars,
            "context_chars": context,
            "status": c["status"],
            "error_type": c["status"],
            "prompt_tokens": np.maximum(1, context // 4),
            "completion_tokens": completion,
            "reasoning_tokens": reasoning,
            "finish_reason": finish,
            "prompt_text": c["prompt"],
            "system_text": sys_idx,
        }

    def _events(self, d: dict[str, Any]) -> Iterator[RequestEvent]:
        s = self.strings
        api = d["api"].tolist()
        status = d["status"].tolist()
        cols = (
            [f"req_{x:016x}" for x in d["request_id"].tolist()],
            self.key_ids[d["key_id"]].tolist(),
            self.account_ids[d["account_id"]].tolist(),
            self.org_ids[d["org_id"]].tolist(),
            d["ts_start"].tolist(),
            _opt_float(d["ts_first_byte"]),
            d["ts_end"].tolist(),
            s[d["client_ip"]].tolist(),
            s[d["user_agent"]].tolist(),
            [APIS[a][0] for a in api],
            [APIS[a][1] for a in api],
            s[d["model"]].tolist(),
            d["stream"].tolist(),
            _opt_float(d["temperature"]),
            _opt_float(d["top_p"]),
            _opt(d["n"].tolist(), -1),
            _opt(d["max_tokens"].tolist(), -1),
            d["logprobs"].tolist(),
            _opt(d["top_logprobs"].tolist(), -1),
            d["logit_bias"].tolist(),
            d["n_tools"].tolist(),
            _opt(d["thinking_budget"].tolist(), -1),
            self._opt_str(d["reasoning_effort"]),
            d["n_messages"].tolist(),
            d["n_user_turns"].tolist(),
            s[d["roles"]].tolist(),
            [self._hash(i) for i in d["system_hash"].tolist()],
            d["has_tool_results"].tolist(),
            d["prompt_chars"].tolist(),
            d["context_chars"].tolist(),
            status,
            [ERROR_TYPES.get(x) if x != 200 else None for x in status],
            d["prompt_tokens"].tolist(),
            d["completion_tokens"].tolist(),
            d["reasoning_tokens"].tolist(),
            self._opt_str(d["finish_reason"]),
            s[d["prompt_text"]].tolist(),
            self._opt_str(d["system_text"]),
        )
        for row in zip(*cols, strict=True):
            yield RequestEvent(**dict(zip(_EVENT_ARGS, row, strict=True)))

    def _opt_str(self, idx: np.ndarray) -> list[str | None]:
        return [None if i < 0 else self.strings[i] for i in idx.tolist()]

    def _json_fragments(self, name: str, values: np.ndarray) -> list[bytes]:
        """JSON value per row, as bytes (bytes never widen to UCS-4 the way str joins do)."""
        kind = _JSON_KIND[name]
        if kind == "id":
            return [b'"req_%016x"' % x for x in values.tolist()]
        if kind in ("key", "account", "org"):
            table = {"key": self.key_ids, "account": self.account_ids, "org": self.org_ids}[kind]
            return self._encode_unique(values, lambda i: orjson.dumps(table[i]))
        if kind in ("str", "opt_str"):
            return self._encode_unique(values, lambda i: b"null" if i < 0 else orjson.dumps(self.strings[i]))
        if kind == "hash":
            return self._encode_unique(
                values, lambda i: b"null" if i < 0 else b'"%s"' % str(self._hash(i)).encode()
            )
        if kind == "api":
            return [_API_JSON[a] for a in values.tolist()]
        if kind == "bool":
            return [b"true" if v else b"false" for v in values.tolist()]
        if kind == "int":
            return [b"%d" % v for v in values.tolist()]
        if kind == "opt_int":
            return [b"null" if v == -1 else b"%d" % v for v in values.tolist()]
        if kind == "float":
            return [b"%r" % v for v in values.tolist()]
        if kind == "opt_float":
            return [b"null" if v != v else b"%r" % v for v in values.tolist()]
        if kind == "error":
            return [_ERROR_JSON.get(v, b"null") for v in values.tolist()]
        raise AssertionError(kind)

    @staticmethod
    def _encode_unique(values: np.ndarray, encode: Any) -> list[bytes]:
        uniq, inv = np.unique(values, return_inverse=True)
        encoded = np.array([encode(i) for i in uniq.tolist()], dtype=object)
        return encoded[inv].tolist()

    def _hash(self, i: int) -> str | None:
        if i < 0:
            return None
        h = self._sys_hash.get(i)
        if h is None:
            h = self._sys_hash[i] = system_hash(self.strings[i])
        return h


# RequestEvent constructor arguments, in the order `_events` builds them.
_EVENT_ARGS = (
    "request_id",
    "key_id",
    "account_id",
    "org_id",
    "ts_start",
    "ts_first_byte",
    "ts_end",
    "client_ip",
    "user_agent",
    "endpoint",
    "flavor",
    "model",
    "stream",
    "temperature",
    "top_p",
    "n",
    "max_tokens",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "n_tools",
    "thinking_budget",
    "reasoning_effort",
    "n_messages",
    "n_user_turns",
    "roles",
    "system_hash",
    "has_tool_results",
    "prompt_chars",
    "context_chars",
    "status",
    "error_type",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "finish_reason",
    "prompt_text",
    "system_text",
)

# JSONL fast path: derived field -> how to encode it.
_JSON_KIND: dict[str, str] = {
    "request_id": "id",
    "key_id": "key",
    "account_id": "account",
    "org_id": "org",
    "ts_start": "float",
    "ts_first_byte": "opt_float",
    "ts_end": "float",
    "client_ip": "str",
    "user_agent": "str",
    "api": "api",
    "model": "str",
    "stream": "bool",
    "temperature": "opt_float",
    "top_p": "opt_float",
    "n": "opt_int",
    "max_tokens": "opt_int",
    "logprobs": "bool",
    "top_logprobs": "opt_int",
    "logit_bias": "bool",
    "n_tools": "int",
    "thinking_budget": "opt_int",
    "reasoning_effort": "opt_str",
    "n_messages": "int",
    "n_user_turns": "int",
    "roles": "str",
    "system_hash": "hash",
    "has_tool_results": "bool",
    "prompt_chars": "int",
    "context_chars": "int",
    "status": "int",
    "error_type": "error",
    "prompt_tokens": "int",
    "completion_tokens": "int",
    "reasoning_tokens": "int",
    "finish_reason": "opt_str",
    "prompt_text": "str",
    "system_text": "opt_str",
}
_JSON_FIELDS = tuple(_JSON_KIND)
_JSON_TEMPLATE = (
    "{" + ",".join(('"endpoint":%s' if f == "api" else f'"{f}":%s') for f in _JSON_FIELDS) + "}"
).encode()
_API_JSON = [f'"{e}","flavor":"{fl}"'.encode() for e, fl in APIS]
_ERROR_JSON = {k: f'"{v}"'.encode() for k, v in ERROR_TYPES.items()}
_DEFAULT_EVENT = RequestEvent(request_id="", ts_start=0.0)
