"""Tool answers: a success carries the GraphQL payload; a refusal is an MCP tool error
(`isError: true`) whose structured content lists typed errors with the codes GraphQL
clients branch on (`ErrorCode`, the `userErrors` codes), never just text.

Structured error content: `{"errors": [{"code", "message", "field"}]}`; `field` is the path of
the offending argument (as in `userErrors`), or null.
"""

from typing import Any

import mcp.types as types
import orjson
from graphql import GraphQLError

from graphql_api.kit.errors import ErrorCode

# Codes a tool error may carry beyond ErrorCode's: the caller's key is not (or no longer)
# valid, or something failed on our side (the database, a bug; masked like GraphQL's).
UNAUTHENTICATED = "UNAUTHENTICATED"
UNAVAILABLE = "UNAVAILABLE"
INTERNAL_ERROR = "INTERNAL_ERROR"

# GraphQL's error codes for a request the caller got wrong, as the one code tools use.
_INVALID_INPUT_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "INVALID_CURSOR",
        "INVALID_PAGE_REQUEST",
        "QUERY_TOO_COMPLEX",
        "QUERY_TOO_DEEP",
        "TOO_MANY_TOKENS",
        "TOO_MANY_ALIASES",
    }
)


def success(value: Any) -> types.CallToolResult:
    structured = value if isinstance(value, dict) else {"result": value}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=orjson.dumps(structured).decode())],
        structured_content=structured,
    )


def tool_error(code: str, message: str, field: list[str] | None = None) -> types.CallToolResult:
    return refused([typed_error(code, message, field)])


def typed_error(code: str, message: str, field: list[str] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field}


def refused(errors: list[dict[str, Any]]) -> types.CallToolResult:
    structured = {"errors": errors}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=orjson.dumps(structured).decode())],
        structured_content=structured,
        is_error=True,
    )


def from_user_errors(user_errors: list[dict[str, Any]]) -> types.CallToolResult:
    """A mutation's `userErrors`, as they are: same codes, messages and field paths."""
    return refused([typed_error(e["code"], e["message"], e.get("field")) for e in user_errors])


def from_graphql_errors(errors: list[GraphQLError]) -> types.CallToolResult:
    return refused(typed_graphql_errors(errors))


def typed_graphql_errors(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    return [_typed(error) for error in errors]


def _field(error: GraphQLError, extensions: dict[str, Any]) -> list[str] | None:
    """The argument at fault when the error names one (`extensions.field`, as userErrors do,
    e.g. ["first"]); otherwise the response path, which for graphql_query locates the
    failing field in the caller's own document."""
    field = extensions.get("field")
    if isinstance(field, list) and field:
        return [str(part) for part in field]
    return [str(part) for part in error.path] if error.path else None


def _typed(error: GraphQLError) -> dict[str, Any]:
    extensions = error.extensions or {}
    graphql_code = str(extensions.get("code", ""))
    if graphql_code in _INVALID_INPUT_CODES:
        code = ErrorCode.INVALID_INPUT.value
    elif graphql_code and graphql_code != "INTERNAL_SERVER_ERROR":
        code = graphql_code  # FORBIDDEN, INTROSPECTION_DISABLED, ...
    else:
        code = INTERNAL_ERROR
    typed = typed_error(code, error.message, _field(error, extensions))
    if graphql_code and graphql_code != code:
        typed["graphqlCode"] = graphql_code
    return typed
