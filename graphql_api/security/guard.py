"""HTTP guard for the GraphQL endpoint: method, media type, body size, JSON shape, deadline.

Pure ASGI (no BaseHTTPMiddleware). Everything here runs before authentication, the rate
limiter and GraphQL, and costs at most one read of a body of bounded size:

- WebSocket upgrades pass untouched: they carry graphql-transport-ws subscriptions
  (graphql_api/realtime/transport.py), which refuses queries and mutations over the socket
  (they must come here as POST), authenticates in `connection_init`, and bounds message size
  (uvicorn closes 1009), subscriptions per key and per-subscription queues itself.
- `POST` with `Content-Type: application/json` only (a `charset`, if given, must be UTF-8);
  `GET` only for the GraphiQL page (no `query` parameter, `Accept: text/html`), so no query
  and no mutation runs over GET; everything else is 405 or 415. Multipart is refused too.
- The body is capped (`Content-Length` checked up front, then counted while streaming): 413.
- The body must be one JSON object with a string `query`; malformed JSON, a batch (a JSON
  array) or a wrong shape is 400. The body is then replayed to the app unchanged.
- The whole request, upload included, runs under a deadline (security/deadline.py): when
  it passes, the request's database work is cancelled and the client gets 504 (408 if its
  body had not even arrived), never a hung connection.

Refusals have the GraphQL shape (security/http_errors.py).
"""

import asyncio
import json
import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.security.deadline import RequestScope, request_scope
from graphql_api.security.http_errors import (
    GRAPHQL_PATH,
    REQUEST_TIMEOUT,
    is_graphql_path,
    send_error,
)

logger = logging.getLogger("graphql_api.security")


class _ClientDisconnectedError(Exception):
    pass


class _Progress:
    __slots__ = ("body_received", "response_started")

    def __init__(self, *, body_received: bool) -> None:
        self.body_received = body_received
        self.response_started = False

    def track(self, send: Send) -> Send:
        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.response_started = True
            await send(message)

        return tracked


class GraphQLRequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        timeout_seconds: float,
        graphql_path: str = GRAPHQL_PATH,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout_seconds = timeout_seconds
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_graphql_path(scope["path"], self.graphql_path):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "GET" and _is_ide_page_request(scope, headers):
            await self._run_with_deadline(scope, receive, send, read_body=False)
            return
        if scope["method"] != "POST":
            await send_error(
                scope,
                send,
                405,
                "Send GraphQL operations as POST with a JSON body.",
                headers=[("Allow", "POST")],
            )
            return
        if not _is_json(headers.get("content-type", "")):
            await send_error(
                scope, send, 415, "The request body must be `application/json` (UTF-8)."
            )
            return
        length = headers.get("content-length")
        if length is not None and not length.isdigit():
            await send_error(scope, send, 400, "Invalid Content-Length.")
            return
        if length is not None and int(length) > self.max_body_bytes:
            await self._too_large(scope, send)
            return
        await self._run_with_deadline(scope, receive, send, read_body=True)

    async def _run_with_deadline(
        self, scope: Scope, receive: Receive, send: Send, *, read_body: bool
    ) -> None:
        progress = _Progress(body_received=not read_body)
        with request_scope(self.timeout_seconds) as request:
            deadline = asyncio.timeout(self.timeout_seconds)
            try:
                async with deadline:
                    if read_body:
                        checked = await self._checked_body(scope, receive, send)
                        progress.body_received = True
                        if checked is None:
                            return
                        receive = checked
                    await self.app(scope, receive, progress.track(send))
            except _ClientDisconnectedError:
                return
            except TimeoutError:
                if not deadline.expired():
                    raise
                await self._timed_out(scope, send, request, progress)

    async def _checked_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """A `receive` replaying the body if it is one acceptable request; else None, once
        the refusal is sent."""
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            await self._too_large(scope, send)
            return None
        if (problem := payload_problem(body)) is not None:
            await send_error(scope, send, 400, problem)
            return None
        return replay_body(body, receive)

    async def _timed_out(
        self, scope: Scope, send: Send, request: RequestScope, progress: _Progress
    ) -> None:
        cancelled = request.expire()
        logger.warning(
            "request %s passed its %s s deadline; cancelled %d database task(s)",
            scope.get("state", {}).get("request_id"),
            self.timeout_seconds,
            cancelled,
        )
        if progress.response_started:
            return  # too late for a clean answer: the server closes the connection
        limit = f"{self.timeout_seconds:g} s"
        if progress.body_received:
            status, message = 504, f"The request did not complete within {limit}."
        else:
            status, message = 408, f"The request body did not arrive within {limit}."
        await send_error(scope, send, status, message, REQUEST_TIMEOUT)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        await send_error(
            scope,
            send,
            413,
            f"The request body is larger than {self.max_body_bytes} bytes.",
            maxBytes=self.max_body_bytes,
        )


def _is_ide_page_request(scope: Scope, headers: Headers) -> bool:
    """What strawberry answers with the GraphiQL page (or a 404 when it is disabled)."""
    query_string: bytes = scope.get("query_string", b"")
    has_query = any(part.split(b"=", 1)[0] == b"query" for part in query_string.split(b"&"))
    return not has_query and "text/html" in headers.get("accept", "")


def _is_json(content_type: str) -> bool:
    media_type, *params = (part.strip().lower() for part in content_type.split(";"))
    if media_type != "application/json":
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it exceeds `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientDisconnectedError
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app `body` once (already read), then the real messages."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def payload_problem(body: bytes) -> str | None:
    """Why this body is not one GraphQL-over-HTTP request, or None if it is."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return "The request body is not valid JSON."
    if isinstance(data, list):
        return "Batched operations are not supported: send one operation per request."
    if not isinstance(data, dict):
        return "The request body must be a JSON object."
    query = data.get("query")
    if not isinstance(query, str) or not query.strip():
        return "The request has no GraphQL `query` string."
    for name, kind in (("variables", dict), ("operationName", str), ("extensions", dict)):
        if data.get(name) is not None and not isinstance(data[name], kind):
            expected = "an object" if kind is dict else "a string"
            return f"`{name}` must be {expected} or null."
    return None
