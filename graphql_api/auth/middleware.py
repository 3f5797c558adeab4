"""Authenticates every GraphQL request by `Authorization: Bearer <key>` before GraphQL runs.

Missing, malformed, unknown or revoked keys get HTTP 401 with a GraphQL-shaped error and no
data. The GraphiQL page itself (GET text/html) is served without a key: it holds no data,
and the key goes into its headers panel. The viewer lands in `request.state.viewer`, and the
key id in `request.state.api_key_id` for the rate limiter.
"""

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.auth.service import authenticate
from graphql_api.db import SessionMaker

UNAUTHENTICATED_BODY = json.dumps(
    {
        "errors": [
            {
                "message": "A valid API key is required: send `Authorization: Bearer <key>`.",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }
).encode()


class ApiKeyAuthMiddleware:
    def __init__(self, app: ASGIApp, *, path_prefix: str = "/graphql") -> None:
        self.app = app
        self.path_prefix = path_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._needs_key(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        token = _bearer_token(headers.get("authorization"))
        sessionmaker: SessionMaker = scope["app"].state.sessionmaker
        viewer = None
        if token is not None:
            async with sessionmaker() as session:
                viewer = await authenticate(session, token)
        if viewer is None:
            await _unauthenticated(send)
            return
        state = scope.setdefault("state", {})
        state["viewer"] = viewer
        state["api_key_id"] = str(viewer.key_id)
        await self.app(scope, receive, send)

    def _needs_key(self, scope: Scope) -> bool:
        if scope["type"] != "http" or not scope["path"].startswith(self.path_prefix):
            return False
        accept = Headers(scope=scope).get("accept", "")
        is_ide_page = scope["method"] == "GET" and "text/html" in accept
        return not is_ide_page


def _bearer_token(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def _unauthenticated(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer realm="finance-graphql"'),
                (b"content-length", str(len(UNAUTHENTICATED_BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": UNAUTHENTICATED_BODY})
