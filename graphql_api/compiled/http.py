"""Where compiled reads meet HTTP: an ASGI middleware, innermost (after the request guard,
authentication and the rate limiter), that answers a POSTed read which compiles with one SQL
statement, PostgreSQL's JSON text spliced into the body unparsed. Everything else continues,
body replayed, to the GraphQL router and the resolvers, which answer exactly as before.

`extensions` carries `requestId`, `sqlStatements` (when query stats are on) and, outside
production, `plan`: "compiled" here, "resolvers" on the router's answers (the CompiledReads
router mixin), so anyone can see which path answered.
"""

import logging
from contextlib import nullcontext
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from graphql_api.auth.service import Viewer
from graphql_api.compiled.execute import fetch_json
from graphql_api.compiled.plans import Statement, plan_request
from graphql_api.config import Settings
from graphql_api.db_health import DatabaseUnavailableError, unavailable_cause
from graphql_api.observability import counting_statements
from graphql_api.security.deadline import RequestDeadlineExceededError
from graphql_api.security.guard import replay_body
from graphql_api.security.http_errors import is_graphql_path
from graphql_api.telemetry.operation import note_compiled_read

logger = logging.getLogger("graphql_api.compiled")
_PLAN_NOTE = "finance_api_plan"


class CompiledReadsMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = self.settings
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if not is_graphql_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if not settings.is_production:
            scope.setdefault("state", {})[_PLAN_NOTE] = "resolvers"  # unless answered here
        if not settings.compiled_reads:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        answer = await _compiled_answer(scope, body, settings)
        if answer is None:
            await self.app(scope, replay_body(body, receive), send)
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


class CompiledReads:
    """GraphQL router mixin: `extensions.plan` = "resolvers" on the resolver path's answers."""

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed: GraphQLHTTPResponse = await super().process_result(request, result)  # type: ignore[misc]
        plan = request.scope.get("state", {}).get(_PLAN_NOTE)
        if plan is not None:
            processed["extensions"] = {**(processed.get("extensions") or {}), "plan": plan}
        return processed


async def _compiled_answer(scope: Scope, body: bytes, settings: Settings) -> bytes | None:
    """The whole response body, or None to let the resolvers answer."""
    state = scope.get("state", {})
    viewer: Viewer | None = state.get("viewer")
    operation = _operation(body)
    if viewer is None or operation is None:
        return None
    try:
        statement = plan_request(*operation, viewer, settings)
    except Exception:
        # Fallback, never failure: whatever planning trips on, the resolvers answer it.
        logger.exception("compiled read could not be planned; answering with the resolvers")
        return None
    if statement is None:
        return None
    counting = counting_statements() if settings.query_stats_enabled else nullcontext(None)
    with counting as cell:
        data = await _run(scope, statement)
    if data is None:
        return None
    extensions: dict[str, Any] = {"requestId": state.get("request_id")}
    if cell is not None:
        extensions["sqlStatements"] = cell[0]
    if not settings.is_production:
        extensions["plan"] = "compiled"
    note_compiled_read(operation[0], operation[1])  # for the access log and metrics
    return b'{"data":' + data.encode() + b',"extensions":' + orjson.dumps(extensions) + b"}"


async def _run(scope: Scope, statement: Statement) -> str | None:
    try:
        return await fetch_json(scope["app"].state.engine, statement)
    except RequestDeadlineExceededError:
        raise
    except Exception as error:
        if (cause := unavailable_cause(error)) is not None:
            # The typed 503 the resolver path gives too (graphql_api/unavailable.py).
            raise DatabaseUnavailableError("a compiled read lost the database") from cause
        # Never a failure: a statement this module got wrong is answered by the resolvers.
        logger.exception("compiled read failed; answering with the resolvers")
        return None


def _operation(body: bytes) -> tuple[str, str | None, dict[str, Any] | None] | None:
    """(query, operationName, variables) of a well-formed body; None leaves it to strawberry."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict):
        return None
    query, name, variables = (payload.get(k) for k in ("query", "operationName", "variables"))
    if not isinstance(query, str) or not isinstance(name, str | None):
        return None
    if not isinstance(variables, dict | None):
        return None
    return query, name, variables


async def _read_body(receive: Receive) -> bytes:
    """The body (the request guard has already bounded its size)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
