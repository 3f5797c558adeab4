"""A cap on GraphQL response bodies, so no answer grows without bound.

The query cost limit (security/cost.py) already refuses operations that could return too
many objects; this is the byte-level backstop for what that estimate cannot see (long texts,
JSON payloads), and it protects clients from answers they cannot hold. A response over
`max_bytes` is replaced by one GraphQL error, `RESPONSE_TOO_LARGE`, with the limit in
`extensions`; the client narrows its selection or pages.

Pure ASGI: the response start is held back until the body is known to fit. Bodies come
whole from the GraphQL router, so holding costs nothing; a streamed body is buffered only up
to the cap.
"""

import logging
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.security.http_errors import GRAPHQL_PATH, is_graphql_path, send_error

RESPONSE_TOO_LARGE: Final = "RESPONSE_TOO_LARGE"

logger = logging.getLogger("graphql_api.security")


class ResponseSizeCap:
    def __init__(self, app: ASGIApp, *, max_bytes: int, graphql_path: str = GRAPHQL_PATH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not is_graphql_path(scope["path"], self.graphql_path)
        ):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _CappedSend(scope, send, self.max_bytes))


class _CappedSend:
    """The `send` of one response: forwards it unchanged while it fits, else the error."""

    __slots__ = ("_chunks", "_max_bytes", "_refused", "_scope", "_send", "_size", "_start")

    def __init__(self, scope: Scope, send: Send, max_bytes: int) -> None:
        self._scope = scope
        self._send = send
        self._max_bytes = max_bytes
        self._start: Message | None = None
        self._chunks: list[bytes] = []
        self._size = 0
        self._refused = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        if message["type"] != "http.response.body" or self._start is None:
            await self._send(message)
            return
        if self._refused:
            return
        chunk: bytes = message.get("body", b"")
        self._size += len(chunk)
        if self._size > self._max_bytes:
            await self._refuse()
            return
        if message.get("more_body", False):
            self._chunks.append(chunk)
            return
        await self._send(self._start)
        if self._chunks:
            message = {**message, "body": b"".join([*self._chunks, chunk])}
        await self._send(message)

    async def _refuse(self) -> None:
        self._refused = True
        self._chunks.clear()
        assert self._start is not None
        logger.warning(
            "request %s: response over %d bytes replaced by %s",
            self._scope.get("state", {}).get("request_id"),
            self._max_bytes,
            RESPONSE_TOO_LARGE,
        )
        await send_error(
            self._scope,
            self._send,
            self._start["status"],
            f"The response would be larger than {self._max_bytes} bytes: select fewer fields"
            " or smaller pages.",
            RESPONSE_TOO_LARGE,
            maxBytes=self._max_bytes,
        )
