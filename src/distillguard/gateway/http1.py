"""A minimal keep-alive HTTP/1.1 client for the gateway -> upstream hop.

Why: `bench/gateway_client_compare.py` measured a bare proxy at ~480-600 us of CPU per
request with aiohttp's `ClientSession` and ~260-300 us with a client this small. It is
the default (`upstream_client = "http1"`); `"aiohttp"` remains for what it lacks (HTTP
proxy settings, HTTP quirks of servers in the wild).

Scope, on purpose: one request per connection at a time (no pipelining), bodies by
Content-Length, chunked transfer encoding or until close; http and https; a connect timeout
and a per-read timeout. The response mimics the slice of `aiohttp.ClientResponse` the
gateway uses: `status`, `headers`, `read()`, `content.iter_any()`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from types import TracebackType

from multidict import CIMultiDict
from yarl import URL

_READ_SIZE = 1 << 16
_MAX_HEAD = 1 << 16


class UpstreamConnectError(ConnectionError):
    """The upstream could not be reached (refused, DNS, TLS handshake)."""


class UpstreamProtocolError(ConnectionError):
    """The upstream broke the exchange: closed early or sent something that is not HTTP/1.1."""


class _Connection:
    __slots__ = ("buf", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()

    def close(self) -> None:
        self.writer.close()


class Http1Response:
    """One response; its body is read at most once (`read()` or `content.iter_any()`)."""

    __slots__ = ("_conn", "_done", "_mode", "_read_timeout", "_remaining", "headers", "keep_alive", "status")

    def __init__(
        self,
        conn: _Connection,
        status: int,
        headers: CIMultiDict[str],
        read_timeout: float | None,
        head: bool,
    ) -> None:
        self._conn = conn
        self.status = status
        self.headers = headers
        self._read_timeout = read_timeout
        self._done = False
        self._remaining = 0
        connection = headers.get("Connection", "").lower()
        self.keep_alive = connection != "close"
        if head or status in (204, 304) or 100 <= status < 200:
            self._mode = "none"
            self._done = True
        elif "chunked" in headers.get("Transfer-Encoding", "").lower():
            self._mode = "chunked"
        elif "Content-Length" in headers:
            try:
                self._remaining = int(headers["Content-Length"])
            except ValueError:
                raise UpstreamProtocolError("bad Content-Length") from None
            self._mode = "length"
            self._done = self._remaining == 0
        else:
            self._mode = "close"
            self.keep_alive = False

    @property
    def content(self) -> Http1Response:
        return self

    @property
    def done(self) -> bool:
        return self._done

    async def _fill(self) -> None:
        """Read more bytes into the connection buffer; EOF is an error unless reading to close."""
        conn = self._conn
        if self._read_timeout is None:
            data = await conn.reader.read(_READ_SIZE)
        else:
            async with asyncio.timeout(self._read_timeout):
                data = await conn.reader.read(_READ_SIZE)
        if not data:
            if self._mode == "close":
                self._done = True
                return
            raise UpstreamProtocolError("upstream closed the connection mid-body")
        conn.buf += data

    async def iter_any(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive, de-chunked; whatever is buffered goes out in one piece."""
        buf = self._conn.buf
        while not self._done:
            if self._mode == "chunked":
                out = self._take_chunks()
            elif self._mode == "length":
                n = min(len(buf), self._remaining)
                out = bytes(buf[:n])
                del buf[:n]
                self._remaining -= n
                self._done = self._remaining == 0
            else:  # until close
                out = bytes(buf)
                buf.clear()
            if out:
                yield out
            if not self._done:
                await self._fill()
        if self._mode == "close" and buf:
            out = bytes(buf)
            buf.clear()
            yield out

    def _take_chunks(self) -> bytes:
        """Decode every complete chunk in the buffer (and the terminator, if it is there)."""
        buf = self._conn.buf
        parts: list[bytes] = []
        pos = 0
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                break
            size_field = bytes(buf[pos:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_field, 16)
            except ValueError:
                raise UpstreamProtocolError("bad chunk size") from None
            if size == 0:
                # The last chunk; the body ends at an empty line after optional trailers.
                if buf[line_end + 2 : line_end + 4] == b"\r\n":
                    end = line_end + 4
                else:
                    trailers_end = buf.find(b"\r\n\r\n", line_end + 2)
                    if trailers_end < 0:
                        break
                    end = trailers_end + 4
                pos = end
                self._done = True
                break
            data_start = line_end + 2
            data_end = data_start + size
            if len(buf) < data_end + 2:
                break
            parts.append(bytes(buf[data_start:data_end]))
            pos = data_end + 2
        if pos:
            del buf[:pos]
        return b"".join(parts)

    async def read(self) -> bytes:
        parts = [chunk async for chunk in self.iter_any()]
        return b"".join(parts)


class _RequestContext:
    __slots__ = ("_args", "_client", "_response")

    def __init__(self, client: Http1Client, args: tuple[str, URL, bytes | None, dict[str, str]]) -> None:
        self._client = client
        self._args = args
        self._response: Http1Response | None = None

    async def __aenter__(self) -> Http1Response:
        slots = self._client._slots
        await slots.acquire()
        try:
            self._response = await self._client._send(*self._args)
        except BaseException:
            slots.release()
            raise
        return self._response

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        response = self._response
        if response is None:
            return
        self._client._slots.release()
        conn = response._conn
        reusable = exc_type is None and response.done and response.keep_alive and not conn.buf
        if reusable and not conn.writer.is_closing():
            self._client._release(self._args[1], conn)
        else:  # an unfinished body, an error, or a cancelled handler: the upstream sees a close
            conn.close()


class Http1Client:
    def __init__(
        self,
        *,
        connect_timeout: float | None,
        read_timeout: float | None,
        max_idle_per_host: int = 1000,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_idle = max_idle_per_host
        # At most this many requests in flight per client (as aiohttp's connector limit):
        # beyond it, requests wait for a free slot instead of opening ever more sockets.
        self._slots = asyncio.Semaphore(max_idle_per_host)
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._ssl = ssl_context  # None: the system's trust store, made on first https use

    def request(self, method: str, url: URL, data: bytes | None, headers: dict[str, str]) -> _RequestContext:
        return _RequestContext(self, (method, url, data, headers))

    @staticmethod
    def _key(url: URL) -> tuple[str, str, int]:
        return (url.scheme, url.host or "", url.port or (443 if url.scheme == "https" else 80))

    def _release(self, url: URL, conn: _Connection) -> None:
        idle = self._idle.setdefault(self._key(url), [])
        if len(idle) < self.max_idle:
            idle.append(conn)
        else:
            conn.close()

    async def _connect(self, key: tuple[str, str, int]) -> _Connection:
        scheme, host, port = key
        ssl_ctx = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            ssl_ctx = self._ssl
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=ssl_ctx, server_hostname=host if ssl_ctx else None, limit=_MAX_HEAD
                )
        except TimeoutError:
            raise
        except OSError as exc:  # refused, unreachable, DNS (gaierror), TLS (SSLError)
            raise UpstreamConnectError(str(exc) or type(exc).__name__) from exc
        return _Connection(reader, writer)

    async def _send(
        self, method: str, url: URL, data: bytes | None, headers: dict[str, str]
    ) -> Http1Response:
        key = self._key(url)
        target = url.raw_path_qs
        host = url.raw_host or ""
        if url.explicit_port:
            host = f"{host}:{url.port}"
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if data is not None:
            lines.append(f"Content-Length: {len(data)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (data or b"")
        idle = self._idle.get(key)
        # A pooled connection the server closed while idle fails before any response byte:
        # then (only then) the request was not processed, so one retry on a fresh one is safe.
        while idle:
            conn = idle.pop()
            if conn.writer.is_closing() or conn.reader.at_eof():
                conn.close()
                continue
            try:
                return await self._exchange(conn, request, method, retry_safe=True)
            except _StaleConnection:
                conn.close()
        conn = await self._connect(key)
        try:
            return await self._exchange(conn, request, method, retry_safe=False)
        except _StaleConnection:
            conn.close()
            raise UpstreamProtocolError("upstream closed the connection before answering") from None

    async def _exchange(
        self, conn: _Connection, request: bytes, method: str, *, retry_safe: bool
    ) -> Http1Response:
        try:
            conn.writer.write(request)
            head = await self._read_head(conn, retry_safe)
        except (ConnectionResetError, BrokenPipeError) as exc:
            if retry_safe:
                raise _StaleConnection from exc
            conn.close()
            raise UpstreamProtocolError(f"upstream connection failed: {type(exc).__name__}") from None
        except BaseException:
            conn.close()
            raise
        try:
            status, headers = _parse_head(head)
        except UpstreamProtocolError:
            conn.close()
            raise
        return Http1Response(conn, status, headers, self.read_timeout, head=method == "HEAD")

    async def _read_head(self, conn: _Connection, retry_safe: bool) -> bytes:
        buf = conn.buf
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(buf[:end])
                del buf[: end + 4]
                if head.startswith(b"HTTP/1.1 100") or head.startswith(b"HTTP/1.0 100"):
                    continue  # 100 Continue: the real answer follows
                return head
            if len(buf) > _MAX_HEAD:
                raise UpstreamProtocolError("response head too large")
            if self.read_timeout is None:
                data = await conn.reader.read(_READ_SIZE)
            else:
                async with asyncio.timeout(self.read_timeout):
                    data = await conn.reader.read(_READ_SIZE)
            if not data:
                if retry_safe and not buf:
                    raise _StaleConnection
                raise UpstreamProtocolError("upstream closed the connection before answering")
            buf += data

    async def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


class _StaleConnection(Exception):
    pass


def _parse_head(head: bytes) -> tuple[int, CIMultiDict[str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise UpstreamProtocolError(f"not an HTTP/1.x response: {lines[0][:80]!r}")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise UpstreamProtocolError("malformed response header")
        headers.add(name.strip(), value.strip())
    return int(parts[1]), headers
