"""The router hook: a POSTed read that compiles is answered by one statement, its JSON text
spliced into the body as PostgreSQL printed it; everything else runs on the resolver path.

`extensions` carries `requestId`, `sqlStatements` (when query stats are on) and, outside
production, `plan`: "compiled" or "resolvers", so anyone can see which path answered.
"""

import logging
from contextlib import nullcontext
from typing import Any

import orjson
from fastapi import Request, Response, WebSocket
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from graphql_api.compiled.execute import fetch_json
from graphql_api.compiled.plans import plan_request
from graphql_api.context import Context
from graphql_api.db_health import DatabaseUnavailableError, unavailable_cause
from graphql_api.observability import counting_statements
from graphql_api.security.http import RequestDeadlineExceededError

logger = logging.getLogger("graphql_api.compiled")
_PLAN_NOTE = "finance_api_plan"


class CompiledReads:
    """Mixin for the GraphQL router (before strawberry's GraphQLRouter in the bases)."""

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        if isinstance(request, Request) and isinstance(context, Context):
            if request.method == "POST":
                response = await compiled_response(request, context)
                if response is not None:
                    return response
            if not context.settings.is_production:
                setattr(request.state, _PLAN_NOTE, "resolvers")
        answer: Response | WebSocket = await super().run(  # type: ignore[misc]
            request, context, root_value
        )
        return answer

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed: GraphQLHTTPResponse = await super().process_result(request, result)  # type: ignore[misc]
        plan = getattr(getattr(request, "state", None), _PLAN_NOTE, None)
        if plan is not None:
            processed["extensions"] = {**(processed.get("extensions") or {}), "plan": plan}
        return processed


async def compiled_response(request: Request, context: Context) -> Response | None:
    settings = context.settings
    viewer = context.viewer
    if viewer is None or not settings.compiled_reads:
        return None
    operation = _operation(await request.body())
    if operation is None:
        return None
    statement = plan_request(*operation, viewer, settings)
    if statement is None:
        return None
    counting = counting_statements() if settings.query_stats_enabled else nullcontext(None)
    with counting as cell:
        try:
            data = await fetch_json(context, statement)
        except RequestDeadlineExceededError:
            raise
        except Exception as error:
            if (cause := unavailable_cause(error)) is not None:
                # The same typed 503 as the resolver path gives (graphql_api/unavailable.py).
                raise DatabaseUnavailableError("a compiled read lost the database") from cause
            # Never a failure: a statement this module got wrong is answered by the resolvers.
            logger.exception("compiled read failed; answering with the resolvers")
            return None
    extensions: dict[str, Any] = {"requestId": context.request_id}
    if cell is not None:
        extensions["sqlStatements"] = cell[0]
    if not settings.is_production:
        extensions["plan"] = "compiled"
    body = b'{"data":' + data.encode() + b',"extensions":' + orjson.dumps(extensions) + b"}"
    return Response(body, media_type="application/json")


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
