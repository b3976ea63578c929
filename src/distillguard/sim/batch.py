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
        self.strings = np.array(strings.values, dtype=object)
        self.account_ids = np.array(account_ids, dtype=object)
        self.org_ids = np.array(org_ids, dtype=object)
        self.key_ids = np.array(key_ids, dtype=object)
        self.ids = ids
        self._sys_hash: dict[int, str] = {}

    def events(self, order: np.ndarray, chunk: int = 65536) -> Iterator[RequestEvent]:
        for lo in range(0, len(order), chunk):
            yield from self._chunk(order[lo : lo + chunk], lo)

    def _s(self, idx: np.ndarray) -> list[Any]:
        return self.strings[idx].tolist()

    def _chunk(self, sel: np.ndarray, pos0: int) -> Iterator[RequestEvent]:
        c = {k: v[sel] for k, v in self.cols.items()}
        n = len(sel)
        ts = c["ts"]
        ok = c["status"] == 200
        completion = np.where(ok, c["completion_tokens"], 0)
        reasoning = np.where(ok, c["reasoning_tokens"], 0)
        # Latency: time to first byte grows with context, end with generated tokens.
        ctx_chars = c["context_chars"]
        prompt_idx = c["prompt"]
        prompt = self._s(prompt_idx)
        prompt_chars = np.fromiter((len(p) for p in prompt), dtype=np.int64, count=n)
        sys_idx = c["system"]
        sys_text = [self.strings[i] if i >= 0 else None for i in sys_idx.tolist()]
        sys_chars = np.fromiter((len(s) if s else 0 for s in sys_text), dtype=np.int64, count=n)
        context = np.where(ctx_chars < 0, prompt_chars, ctx_chars) + sys_chars
        prompt_tokens = np.maximum(1, context // 4)
        ttfb = 0.25 + context / 400000.0 + reasoning / 90.0
        dur = ttfb + completion / 70.0
        first_byte = np.where(ok, ts + ttfb, np.nan)
        end = ts + np.where(ok, dur, 0.05)
        max_tok = c["max_tokens"]
        finish = np.where(~ok, "", np.where((max_tok > 0) & (completion >= max_tok), "length", "stop"))
        status = c["status"].tolist()
        api = c["api"].tolist()
        acct = c["account"]
        rid = self.ids[pos0 : pos0 + n]
        cols = (
            [f"req_{x:016x}" for x in rid.tolist()],
            self.key_ids[acct].tolist(),
            self.account_ids[acct].tolist(),
            self.org_ids[acct].tolist(),
            np.round(ts, 3).tolist(),
            _opt_float(first_byte),
            np.round(end, 3).tolist(),
            self._s(c["ip"]),
            self._s(c["ua"]),
            api,
            self._s(c["model"]),
            c["stream"].tolist(),
            _opt_float(c["temperature"]),
            _opt_float(c["top_p"]),
            _opt(c["n"].tolist(), -1),
            _opt(max_tok.tolist(), -1),
            c["logprobs"].tolist(),
            _opt(c["top_logprobs"].tolist(), -1),
            c["logit_bias"].tolist(),
            c["n_tools"].tolist(),
            _opt(c["thinking_budget"].tolist(), -1),
            [self.strings[i] if i >= 0 else None for i in c["reasoning_effort"].tolist()],
            c["n_messages"].tolist(),
            c["n_user_turns"].tolist(),
            self._s(c["roles"]),
            [self._hash(i) for i in sys_idx.tolist()],
            c["has_tool_results"].tolist(),
            prompt_chars.tolist(),
            context.tolist(),
            status,
            prompt_tokens.tolist(),
            completion.tolist(),
            reasoning.tolist(),
            finish.tolist(),
            prompt,
            sys_text,
        )
        for (
            r,
            k,
            a,
            o,
            t0,
            tf,
            te,
            ip,
            ua,
            ap,
            model,
            stream,
            temp,
            top_p,
            nn,
            mt,
            lp,
            tlp,
            lb,
            nt,
            tb,
            re_,
            nm,
            nu,
            roles,
            sh,
            htr,
            pc,
            cc,
            st,
            pt,
            ct,
            rt,
            fr,
            p,
            s,
        ) in zip(*cols, strict=True):
            endpoint, flavor = APIS[ap]
            yield RequestEvent(
                request_id=r,
                key_id=k,
                account_id=a,
                org_id=o,
                ts_start=t0,
                ts_first_byte=tf,
                ts_end=te,
                client_ip=ip,
                user_agent=ua,
                endpoint=endpoint,
                flavor=flavor,
                model=model,
                upstream="",
                stream=stream,
                temperature=temp,
                top_p=top_p,
                n=nn,
                max_tokens=mt,
                logprobs=lp,
                top_logprobs=tlp,
                logit_bias=lb,
                n_tools=nt,
                thinking_budget=tb,
                reasoning_effort=re_,
                n_messages=nm,
                n_user_turns=nu,
                roles=roles,
                system_hash=sh,
                has_tool_results=htr,
                prompt_chars=pc,
                context_chars=cc,
                status=st,
                error_type=ERROR_TYPES.get(st) if st != 200 else None,
                prompt_tokens=pt,
                completion_tokens=ct,
                reasoning_tokens=rt,
                usage_estimated=False,
                finish_reason=fr or None,
                prompt_text=p,
                system_text=s,
            )

    def _hash(self, i: int) -> str | None:
        if i < 0:
            return None
        h = self._sys_hash.get(i)
        if h is None:
            h = self._sys_hash[i] = system_hash(self.strings[i])
        return h
