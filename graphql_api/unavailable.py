"""HTTP 503 for requests that cannot reach the database, wherever that is found out.

Pure ASGI (no BaseHTTPMiddleware). It wraps authentication (the API-key lookup), the rate
limiter and the GraphQL router; the router raises `DatabaseUnavailableError` when a GraphQL
result carries such an error (app.py), so both paths end here. The client gets a complete
JSON response, `{"errors": [{"message", "extensions": {"code": "SERVICE_UNAVAILABLE",
"requestId"}}]}` with `Retry-After`, and the connection stays open for its next request.
Anything else, or an outage found after the response started, is re-raised unchanged.
"""

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.db_health import log_unavailable, unavailable_cause
from graphql_api.security.http_errors import send_error

SERVICE_UNAVAILABLE: Final = "SERVICE_UNAVAILABLE"


class DatabaseUnavailableMiddleware:
    def __init__(self, app: ASGIApp, *, retry_after_seconds: int) -> None:
        self.app = app
        self.retry_after_seconds = retry_after_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            cause = unavailable_cause(error)
            if cause is None or response_started:
                raise
            log_unavailable(scope.get("state", {}).get("request_id"), cause)
            await self._unavailable(scope, send)

    async def _unavailable(self, scope: Scope, send: Send) -> None:
        retry_after = self.retry_after_seconds
        await send_error(
            scope,
            send,
            503,
            f"The database is unavailable; retry in {retry_after} s.",
            SERVICE_UNAVAILABLE,
            headers=[("Retry-After", str(retry_after))],
        )
