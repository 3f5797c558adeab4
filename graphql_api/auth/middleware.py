"""Authenticates every GraphQL and MCP request (/graphql, /mcp) by `Authorization: Bearer
<key>` before GraphQL or the MCP server runs.

Missing, malformed, unknown or revoked keys get HTTP 401 with a GraphQL-shaped error and no
data. The GraphiQL page itself (GET text/html) is served without a key: it holds no data,
and the key goes into its headers panel. The viewer lands in `request.state.viewer`, and the
key id in `request.state.api_key_id` for the rate limiter.

A live key is remembered for `key_cache_seconds` (auth/key_cache.py): a hot key costs no
database round trip, and a revocation takes effect within that time. A lookup that cannot
reach the database raises on to DatabaseUnavailableMiddleware (HTTP 503).
"""

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.auth.key_cache import VerifiedKeyCache
from graphql_api.auth.service import Viewer, authenticate, hash_token, looks_like_token
from graphql_api.request_db import RequestDatabase

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


GRAPHQL_PREFIX = "/graphql"
# Every path under these needs a key: GraphQL, and MCP over streamable HTTP (mcp_server/http.py).
PROTECTED_PREFIXES = (GRAPHQL_PREFIX, "/mcp")


class ApiKeyAuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        path_prefixes: tuple[str, ...] = PROTECTED_PREFIXES,
        key_cache_seconds: float = 5.0,
        verified_keys: VerifiedKeyCache | None = None,
    ) -> None:
        self.app = app
        self.path_prefixes = path_prefixes
        # The app passes its own (app.state.verified_keys): WebSocket connection_init uses it too.
        self.verified_keys = (
            verified_keys if verified_keys is not None else VerifiedKeyCache(key_cache_seconds)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._needs_key(scope):
            await self.app(scope, receive, send)
            return
        token = _bearer_token(Headers(scope=scope).get("authorization"))
        viewer = None
        if token is not None and looks_like_token(token):
            viewer = await self._verified(scope, token)
        if viewer is None:
            await _unauthenticated(send)
            return
        state = scope.setdefault("state", {})
        state["viewer"] = viewer
        state["api_key_id"] = str(viewer.key_id)
        await self.app(scope, receive, send)

    async def _verified(self, scope: Scope, token: str) -> Viewer | None:
        token_hash = hash_token(token)
        viewer = self.verified_keys.get(token_hash)
        if viewer is not None:
            return viewer
        # A short autocommit read on a pooled connection, given back before GraphQL runs.
        db = RequestDatabase(scope["app"].state.engine)
        try:
            async with db.session() as session:
                viewer = await authenticate(session, token)
        finally:
            await db.close()
        if viewer is not None:
            self.verified_keys.put(token_hash, viewer)
        return viewer

    def _needs_key(self, scope: Scope) -> bool:
        if scope["type"] != "http" or not scope["path"].startswith(self.path_prefixes):
            return False
        if not scope["path"].startswith(GRAPHQL_PREFIX):
            return True
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
