"""A request-header deadline for uvicorn's HTTP protocols (slow-client, "slowloris" defence).

uvicorn has no header timeout: a connection that sends its request line and headers a byte
at a time is kept open as long as the bytes keep coming (its keep-alive timer is cancelled
by every byte received, and a fresh connection has no timer at all). Fifty such connections
cost the attacker nothing and each holds a socket, a file descriptor and a protocol object
in the worker for as long as it likes.

These protocol classes add one timer per connection: armed when the connection is made and
again when a response completes (the connection is then waiting for its next request), and
cancelled as soon as a request's headers are complete. If it fires first, the connection is
closed without a response, as nginx does on `client_header_timeout`. The request body is not
covered: the whole-request deadline (`request_timeout_seconds`, security/deadline.py) bounds it.

`finance-api serve` selects `AutoHeaderTimeoutProtocol` by import path (`http=` in
uvicorn's Config, a string so it also reaches `--workers` processes), which reads
`http_header_timeout_seconds` from the settings; `with_header_timeout` makes a class with a
fixed timeout for servers built in-process (tests). Like uvicorn's own "auto", it is the
httptools protocol when httptools is installed, else the h11 one.
"""

import asyncio
from typing import Any, ClassVar, cast

from uvicorn.protocols.http.h11_impl import H11Protocol

from graphql_api.config import get_settings

__all__ = [
    "AutoHeaderTimeoutProtocol",
    "HeaderTimeoutH11Protocol",
    "with_header_timeout",
]


class _HeaderDeadline:
    """The timer, shared by both protocol classes. `cycle` is uvicorn's current
    request/response cycle: a new one exists exactly when a request's headers were parsed."""

    # None: read `http_header_timeout_seconds` from the settings (per worker process).
    header_timeout_seconds: ClassVar[float | None] = None

    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any
    _header_timer: asyncio.TimerHandle | None = None

    # Both protocols: arm on connect and after each response, disarm when the connection
    # goes (the parser-specific "headers complete" hook stays in each class).
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._arm_if_idle()

    def _header_timeout(self) -> float:
        configured = type(self).header_timeout_seconds
        return configured if configured is not None else get_settings().http_header_timeout_seconds

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        if not self.transport.is_closing():
            self._header_timer = self.loop.call_later(
                self._header_timeout(), self._header_deadline_passed, self.cycle
            )

    def _cancel_header_deadline(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _arm_if_idle(self) -> None:
        """After a response: wait for the next request's headers unless a pipelined request
        (headers already complete) has started in its place."""
        if self.cycle is not None and self.cycle.response_complete:
            self._arm_header_deadline()

    def _cancel_if_new_request(self, armed_for: Any) -> None:
        if self._header_timer is not None and self.cycle is not armed_for:
            self._cancel_header_deadline()

    def _header_deadline_passed(self, armed_for: Any) -> None:
        self._header_timer = None
        # Belt and braces: a request whose headers completed since arming is never cut off,
        # nor a connection handed over to a WebSocket protocol.
        if (
            self.cycle is armed_for
            and not self.transport.is_closing()
            and self.transport.get_protocol() is cast(asyncio.BaseProtocol, self)
        ):
            self.transport.close()


class HeaderTimeoutH11Protocol(_HeaderDeadline, H11Protocol):
    """uvicorn's h11 protocol with the header deadline."""

    def handle_events(self) -> None:
        # h11 yields the Request event (headers complete) inside this call.
        before = self.cycle
        super().handle_events()
        self._cancel_if_new_request(before)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is an optional uvicorn extra
    AutoHeaderTimeoutProtocol: type[H11Protocol | Any] = HeaderTimeoutH11Protocol
else:

    class HeaderTimeoutHttpToolsProtocol(_HeaderDeadline, HttpToolsProtocol):
        """uvicorn's httptools protocol with the header deadline."""

        def on_headers_complete(self) -> None:
            self._cancel_header_deadline()
            super().on_headers_complete()

    __all__ += ["HeaderTimeoutHttpToolsProtocol"]
    AutoHeaderTimeoutProtocol = HeaderTimeoutHttpToolsProtocol


def with_header_timeout(seconds: float, base: type[Any] = AutoHeaderTimeoutProtocol) -> type[Any]:
    """`base` with a fixed header timeout instead of the setting (for in-process servers:
    a class made here cannot be imported by name in a `--workers` process)."""
    if seconds <= 0:
        raise ValueError("the header timeout must be positive")
    return type(f"{base.__name__}{seconds:g}s", (base,), {"header_timeout_seconds": seconds})
