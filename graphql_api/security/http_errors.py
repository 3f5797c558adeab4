"""GraphQL-shaped error responses sent straight from ASGI middleware, and the endpoint path.

Everything that answers before GraphQL runs (the HTTP guard, the rate limiter, the response
cap, the database-unavailable handler, the IDE) refuses with the same body:
`{"errors": [{"message", "extensions": {"code"}}]}`.
"""

import json
from collections.abc import Sequence
from typing import Final

from starlette.types import Scope, Send

GRAPHQL_PATH: Final = "/graphql"

BAD_REQUEST: Final = "BAD_REQUEST"
METHOD_NOT_ALLOWED: Final = "METHOD_NOT_ALLOWED"
NOT_FOUND: Final = "NOT_FOUND"
REQUEST_TOO_LARGE: Final = "REQUEST_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE: Final = "UNSUPPORTED_MEDIA_TYPE"
REQUEST_TIMEOUT: Final = "REQUEST_TIMEOUT"

CODE_BY_STATUS: Final = {
    400: BAD_REQUEST,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    408: REQUEST_TIMEOUT,
    413: REQUEST_TOO_LARGE,
    415: UNSUPPORTED_MEDIA_TYPE,
    504: REQUEST_TIMEOUT,
}


def is_graphql_path(path: str, graphql_path: str = GRAPHQL_PATH) -> bool:
    return path == graphql_path or path == graphql_path + "/"


def error_body(message: str, code: str, **extensions: object) -> bytes:
    error = {"message": message, "extensions": {"code": code, **extensions}}
    return json.dumps({"errors": [error]}, separators=(",", ":")).encode()


async def send_error(
    scope: Scope,
    send: Send,
    status: int,
    message: str,
    code: str | None = None,
    *,
    headers: Sequence[tuple[str, str]] = (),
    **extensions: object,
) -> None:
    """Send a complete GraphQL-shaped error response (with the request id, when known)."""
    request_id = scope.get("state", {}).get("request_id")
    if request_id is not None:
        extensions.setdefault("requestId", request_id)
    body = error_body(message, code or CODE_BY_STATUS.get(status, BAD_REQUEST), **extensions)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
