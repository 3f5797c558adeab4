"""A lean HTTP/1.1 keep-alive client for the load driver: framing only, no header objects.

The driver must cost far less CPU than the server it measures, so a connection is an
asyncio.Protocol driven by callbacks (no coroutine per request): it writes pre-encoded
request bytes, and the parser below reads just the status code and the body's framing
(Content-Length or chunked). One request is in flight per connection (no pipelining).
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

_HEAD_END = b"\r\n\r\n"
_NO_BODY_STATUSES = frozenset({204, 304})


class FramingError(Exception):
    """The bytes received are not an HTTP/1.1 response this client can frame."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    keep_alive: bool


class ResponseParser:
    """Incremental response framing: feed bytes as they arrive, get complete responses."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._status = 0
        self._keep_alive = True
        self._length: int | None = None  # None while reading the head
        self._chunked = False
        self._chunks: list[bytes] = []

    def feed(self, data: bytes) -> list[Response]:
        self._buffer += data
        done: list[Response] = []
        while True:
            if self._length is None and not self._chunked and not self._read_head():
                return done
            body = self._read_chunked() if self._chunked else self._read_sized()
            if body is None:
                return done
            done.append(Response(self._status, body, self._keep_alive))
            self._length, self._chunked = None, False

    @property
    def idle(self) -> bool:
        """No partial response buffered: the connection may close cleanly here."""
        return self._length is None and not self._chunked and not self._buffer

    def _read_head(self) -> bool:
        end = self._buffer.find(_HEAD_END)
        if end < 0:
            return False
        head = bytes(self._buffer[:end]).lower()
        del self._buffer[: end + 4]
        if not head.startswith(b"http/1."):
            raise FramingError(f"not an HTTP/1.x status line: {head[:60]!r}")
        self._status = int(head[9:12])
        self._keep_alive = not head.startswith(b"http/1.0") and b"\r\nconnection: close" not in head
        if b"\r\ntransfer-encoding:" in head and b"chunked" in _header(head, b"transfer-encoding"):
            self._chunked, self._chunks = True, []
        elif b"\r\ncontent-length:" in head:
            self._length = int(_header(head, b"content-length"))
        elif self._status in _NO_BODY_STATUSES or 100 <= self._status < 200:
            self._length = 0
        else:
            raise FramingError(f"HTTP {self._status} without Content-Length or chunked framing")
        return True

    def _read_sized(self) -> bytes | None:
        length = self._length or 0
        if len(self._buffer) < length:
            return None
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        return body

    def _read_chunked(self) -> bytes | None:
        while True:
            line_end = self._buffer.find(b"\r\n")
            if line_end < 0:
                return None
            size = int(bytes(self._buffer[:line_end]).split(b";", 1)[0], 16)
            if size == 0:
                return self._read_trailers(line_end + 2)
            if len(self._buffer) < line_end + 2 + size + 2:
                return None
            start = line_end + 2
            self._chunks.append(bytes(self._buffer[start : start + size]))
            del self._buffer[: start + size + 2]

    def _read_trailers(self, offset: int) -> bytes | None:
        # After the last chunk: optional trailer lines, then an empty line.
        while True:
            line_end = self._buffer.find(b"\r\n", offset)
            if line_end < 0:
                return None
            if line_end == offset:
                del self._buffer[: line_end + 2]
                return b"".join(self._chunks)
            offset = line_end + 2


def _header(head: bytes, name: bytes) -> bytes:
    """The value of a header in a lower-cased head (the first occurrence)."""
    start = head.index(b"\r\n" + name + b":") + len(name) + 3
    end = head.find(b"\r\n", start)
    return head[start : end if end >= 0 else len(head)].strip()


# Called with each complete response and its latency in seconds.
OnResponse = Callable[[float, Response], None]
NextRequest = Callable[[], bytes | None]


class Connection(asyncio.Protocol):
    """Sends the next request as soon as the previous response is complete."""

    def __init__(
        self, next_request: NextRequest, on_response: OnResponse, on_error: Callable[[str], None]
    ) -> None:
        self._next_request = next_request
        self._on_response = on_response
        self._on_error = on_error
        self._parser = ResponseParser()
        self._transport: asyncio.Transport | None = None
        self._started: float | None = None  # set while a request is in flight
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._send()

    def _send(self) -> None:
        assert self._transport is not None
        request = self._next_request()
        if request is None:
            self._transport.close()
            return
        self._started = time.perf_counter()
        self._transport.write(request)

    def data_received(self, data: bytes) -> None:
        try:
            responses = self._parser.feed(data)
        except (FramingError, ValueError) as error:
            self.abort(f"{type(error).__name__}: {error}")
            return
        for response in responses:
            if self._started is None:
                self.abort("a response arrived with no request in flight")
                return
            latency = time.perf_counter() - self._started
            self._started = None
            self._on_response(latency, response)
            if not response.keep_alive:
                assert self._transport is not None
                self._transport.close()
                return
            self._send()

    def abort(self, reason: str) -> None:
        """Count the request in flight (if any) as failed and drop the connection."""
        if self._started is not None:
            self._started = None
            self._on_error(reason)
        if self._transport is not None:
            self._transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._started is not None:
            self._started = None
            self._on_error(f"connection lost: {exc or 'closed by the server'}")
        if not self.closed.done():
            self.closed.set_result(None)
