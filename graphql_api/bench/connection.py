"""One keep-alive HTTP/1.1 connection of the load driver, driven by callbacks.

The driver must cost far less CPU than the server it measures, so there is no coroutine or
future per request: the socket reads straight into the parser's buffer (BufferedProtocol),
and the next pre-encoded request is written as soon as the previous response is complete.
One request is in flight per connection (no pipelining), as with wrk and most load tools.
"""

import asyncio
import time
from collections.abc import Callable
from typing import cast

from graphql_api.bench.rawhttp import FramingError, Response, ResponseParser

NextRequest = Callable[[], bytes | None]  # None: stop and close
OnResponse = Callable[[float, Response], None]  # latency in seconds, the response
OnError = Callable[[str], None]


class Connection(asyncio.BufferedProtocol):
    def __init__(
        self,
        next_request: NextRequest,
        on_response: OnResponse,
        on_error: OnError,
        wants_body: Callable[[int], bool],
    ) -> None:
        self._next_request = next_request
        self._on_response = on_response
        self._on_error = on_error
        self._parser = ResponseParser(wants_body)
        self._transport: asyncio.Transport | None = None
        self._started: float | None = None  # set while a request is in flight
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        self._send()

    def _send(self) -> None:
        assert self._transport is not None
        request = self._next_request()
        if request is None:
            self._transport.close()
            return
        self._started = time.perf_counter()
        self._transport.write(request)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._parser.buffer()

    def buffer_updated(self, nbytes: int) -> None:
        try:
            responses = self._parser.received(nbytes)
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
