"""The MCP server object (the SDK's low-level `Server`), shared by both transports.

A transport only says who is calling (`CallerSource`): over HTTP the viewer the API-key
middleware put on the request, over stdio the key from the environment. Listing and calling
are then the same code (calls.py).
"""

from collections.abc import Awaitable, Callable
from typing import Any

import mcp.types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from graphql_api.mcp_server import results
from graphql_api.mcp_server.calls import call_tool, input_schema, visible_tools
from graphql_api.mcp_server.execute import Caller
from graphql_api.runtime.console import package_version

# Who is calling, from the request context; None: no valid key.
CallerSource = Callable[[ServerRequestContext[Any, Any]], Awaitable[Caller | None]]

SERVER_NAME = "finance-graphql"
INSTRUCTIONS = (
    "Tools over a pension, wealth and lending data model. Start with search_members or"
    ' get_member_context; amounts are decimal strings (e.g. "12500.00"); send an'
    " idempotencyKey with writes you may retry. Refusals are tool errors whose structured"
    " content lists {code, message, field}: branch on `code`."
)


def build_server(caller_of: CallerSource) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=visible_tools(await caller_of(ctx)))

    async def call(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        caller = await caller_of(ctx)
        if caller is None:
            return results.tool_error(results.UNAUTHENTICATED, "A valid API key is required.")
        return await call_tool(caller, params.name, dict(params.arguments or {}))

    return Server(
        SERVER_NAME,
        version=package_version(),
        instructions=INSTRUCTIONS,
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call,
    )
