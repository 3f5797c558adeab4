"""HTTP/1.1 response framing for the load driver: status, Content-Length or chunked, no more.

The parser owns one receive buffer that the socket reads straight into (asyncio's
BufferedProtocol, see connection.py) and walks responses in place. A large body is not
copied: only its first HEAD_BYTES and last TAIL_BYTES are kept (where a top-level "errors"
key sits), unless the caller asks for the whole body when the head arrives. Short bodies
are always kept whole.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

HEAD_BYTES = 512
TAIL_BYTES = 16_384
SHORT_BODY_BYTES = 65_536  # kept whole: copying this much costs less than deciding not to
BUFFER_BYTES = 262_144
MAX_HEAD_BYTES = 65_536
_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([0-9]+)")
_NO_BODY_STATUSES = frozenset({204, 304})


class FramingError(Exception):
    """The bytes received are not an HTTP/1.1 response this client can frame."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    keep_alive: bool
    length: int
    body: bytes | None  # the whole body: short ones always, long ones when asked for
    head: bytes  # the first HEAD_BYTES of the body
    tail: bytes  # the last TAIL_BYTES of the body (all of it when short)
    asked: bool  # the whole body was asked for when the head arrived


def _response(status: int, keep_alive: bool, body: bytes, asked: bool) -> Response:
    return Response(
        status, keep_alive, len(body), body, body[:HEAD_BYTES], body[-TAIL_BYTES:], asked
    )


class ResponseParser:
    """Incremental framing over an owned buffer: `buffer()` to read into, then `received(n)`.

    `wants_body(length)` is asked once per response, when its head is parsed (length 0 when
    the body is chunked).
    """

    def __init__(self, wants_body: Callable[[int], bool] = lambda length: True) -> None:
        self._wants_body = wants_body
        self._data = bytearray(BUFFER_BYTES)
        self._view = memoryview(self._data)
        self._start = 0  # first byte not yet parsed
        self._filled = 0  # end of the bytes received
        self._in_body = False
        self._status = 0
        self._keep_alive = True
        self._asked = False
        self._keep = False
        self._length = 0
        self._offset = 0  # bytes of the current body seen so far
        self._pieces: list[bytes] = []  # the kept body, or its head and tail windows
        self._tail: list[bytes] = []
        self._chunked: bytearray | None = None  # a chunked body, framing not yet decoded

    @property
    def idle(self) -> bool:
        """No partial response buffered: the connection may close cleanly here."""
        return not self._in_body and self._start == self._filled

    def buffer(self) -> memoryview:
        """Free space to receive into (asyncio.BufferedProtocol.get_buffer)."""
        if self._start == self._filled:
            self._start = self._filled = 0
        elif len(self._data) - self._filled < BUFFER_BYTES // 4:
            pending = self._filled - self._start
            self._data[:pending] = self._data[self._start : self._filled]  # same size: allowed
            self._start, self._filled = 0, pending
        return self._view[self._filled :]

    def feed(self, data: bytes) -> list[Response]:
        """Copy bytes in and parse them: for tests and callers without a socket."""
        done: list[Response] = []
        while data:
            space = self.buffer()
            count = min(len(space), len(data))
            space[:count] = data[:count]
            data = data[count:]
            done.extend(self.received(count))
        return done

    def received(self, count: int) -> list[Response]:
        self._filled += count
        done: list[Response] = []
        while True:
            if not self._in_body and not self._read_head():
                return done
            response = self._read_chunked() if self._chunked is not None else self._read_sized()
            if response is None:
                return done
            done.append(response)
            self._in_body = False
            if self._start == self._filled:
                return done

    def _read_head(self) -> bool:
        end = self._data.find(_HEAD_END, self._start, self._filled)
        if end < 0:
            if self._filled - self._start > MAX_HEAD_BYTES:
                raise FramingError(f"no end of the response head in {MAX_HEAD_BYTES} bytes")
            return False
        head = bytes(self._data[self._start : end].lower())
        self._start = end + 4
        if not head.startswith(b"http/1."):
            raise FramingError(f"not an HTTP/1.x status line: {head[:60]!r}")
        self._status = int(head[9:12])
        self._keep_alive = not head.startswith(b"http/1.0") and b"\r\nconnection: close" not in head
        self._in_body, self._chunked, self._offset = True, None, 0
        self._pieces, self._tail = [], []
        if b"\r\ntransfer-encoding:" in head and b"chunked" in _header(head, b"transfer-encoding"):
            self._chunked = bytearray()
        elif (sized := _CONTENT_LENGTH.search(head)) is not None:
            self._length = int(sized[1])
        elif self._status in _NO_BODY_STATUSES or 100 <= self._status < 200:
            self._length = 0
        else:
            raise FramingError(f"HTTP {self._status} without Content-Length or chunked framing")
        self._asked = self._wants_body(0 if self._chunked is not None else self._length)
        self._keep = self._asked or self._length <= SHORT_BODY_BYTES
        return True

    def _read_sized(self) -> Response | None:
        if self._offset == 0 and self._keep and self._filled - self._start >= self._length:
            # The usual case: a whole short body already received.
            start = self._start
            self._start += self._length
            body = bytes(self._view[start : self._start])
            return _response(self._status, self._keep_alive, body, self._asked)
        take = min(self._length - self._offset, self._filled - self._start)
        start, end = self._start, self._start + take
        if self._keep:
            self._pieces.append(bytes(self._view[start:end]))
        else:
            self._keep_windows(start, end)
        self._start, self._offset = end, self._offset + take
        if self._offset < self._length:
            return None
        if self._keep:
            body = self._pieces[0] if len(self._pieces) == 1 else b"".join(self._pieces)
            return _response(self._status, self._keep_alive, body, self._asked)
        head, tail = b"".join(self._pieces), b"".join(self._tail)
        return Response(self._status, self._keep_alive, self._length, None, head, tail, False)

    def _keep_windows(self, start: int, end: int) -> None:
        """Copy the parts of buffer[start:end] that fall in the body's head or tail window."""
        offset = self._offset
        if offset < HEAD_BYTES:
            self._pieces.append(bytes(self._view[start : min(end, start + HEAD_BYTES - offset)]))
        tail_from = self._length - TAIL_BYTES  # body offset where the tail window begins
        if offset + (end - start) > tail_from:
            self._tail.append(bytes(self._view[start + max(0, tail_from - offset) : end]))

    def _read_chunked(self) -> Response | None:
        # Rare here (both bench servers send Content-Length): reassemble in a second buffer.
        buffer = self._chunked
        assert buffer is not None
        buffer += self._view[self._start : self._filled]
        self._start = self._filled
        chunks: list[bytes] = []
        position = 0
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(bytes(buffer[position:line_end]).split(b";", 1)[0], 16)
            if size == 0:
                return self._read_trailers(buffer, line_end + 2, chunks)
            if len(buffer) < line_end + 2 + size + 2:
                return None
            chunks.append(bytes(buffer[line_end + 2 : line_end + 2 + size]))
            position = line_end + 2 + size + 2

    def _read_trailers(
        self, buffer: bytearray, offset: int, chunks: list[bytes]
    ) -> Response | None:
        # After the last chunk: optional trailer lines, then an empty line.
        while True:
            line_end = buffer.find(b"\r\n", offset)
            if line_end < 0:
                return None
            if line_end == offset:
                break
            offset = line_end + 2
        # What follows belongs to the next response: put it back in front of the receive buffer.
        rest = buffer[line_end + 2 :]
        self._data[: len(rest)] = rest
        self._start, self._filled = 0, len(rest)
        return _response(self._status, self._keep_alive, b"".join(chunks), self._asked)


def _header(head: bytes, name: bytes) -> bytes:
    """The value of a header in a lower-cased head (the first occurrence)."""
    start = head.index(b"\r\n" + name + b":") + len(name) + 3
    end = head.find(b"\r\n", start)
    return head[start : end if end >= 0 else len(head)].strip()
