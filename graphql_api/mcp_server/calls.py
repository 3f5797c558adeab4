"""One tool call, transport-neutral: policy check, argument check, the document, the answer.

Order matters for "invalid input writes nothing": the role (policy.can) and the arguments'
shape (the JSON Schema generated from the GraphQL inputs) are checked before anything runs;
value rules (ranges, scales, existence) are the services', which refuse inside the mutation's
transaction, so a refused call leaves no row behind, audit rows included.
"""

from dataclasses import dataclass
from typing import Any

import mcp.types as types
from graphql import (
    GraphQLSyntaxError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
)
from jsonschema import Draft202012Validator

from graphql_api.auth.policy import FORBIDDEN_MESSAGE, Action, can
from graphql_api.db_health import DatabaseUnavailableError
from graphql_api.kit.errors import ErrorCode
from graphql_api.mcp_server import results
from graphql_api.mcp_server.execute import Caller, run_document
from graphql_api.mcp_server.input_schema import JsonSchema
from graphql_api.mcp_server.tools import (
    DOCUMENT_TOOLS,
    GRAPHQL_QUERY_ACTION,
    GRAPHQL_QUERY_DESCRIPTION,
    GRAPHQL_QUERY_NAME,
    GRAPHQL_QUERY_SCHEMA,
    ToolSpec,
)


@dataclass(frozen=True)
class Entry:
    tool: types.Tool
    action: Action
    validator: Draft202012Validator
    spec: ToolSpec | None  # None: graphql_query


def _entry(
    name: str, description: str, action: Action, schema: JsonSchema, spec: ToolSpec | None
) -> Entry:
    read_only = spec is None or spec.read_only
    annotations = types.ToolAnnotations(
        read_only_hint=read_only,
        destructive_hint=False,
        # Writes are safe to retry only with the same idempotencyKey.
        idempotent_hint=read_only,
        open_world_hint=False,
    )
    tool = types.Tool(
        name=name, description=description, input_schema=schema, annotations=annotations
    )
    Draft202012Validator.check_schema(schema)
    return Entry(tool, action, Draft202012Validator(schema), spec)


def _catalog() -> dict[str, Entry]:
    entries = [_entry(s.name, s.description, s.action, s.input_schema, s) for s in DOCUMENT_TOOLS]
    entries.append(
        _entry(
            GRAPHQL_QUERY_NAME,
            GRAPHQL_QUERY_DESCRIPTION,
            GRAPHQL_QUERY_ACTION,
            GRAPHQL_QUERY_SCHEMA,
            None,
        )
    )
    return {entry.tool.name: entry for entry in entries}


CATALOG = _catalog()


def input_schema(name: str) -> JsonSchema | None:
    """A tool's input schema by name, for the SDK's `Mcp-Param-*` header check: without it
    the SDK runs the whole tools/list handler on every tools/call to find the schema."""
    entry = CATALOG.get(name)
    return entry.tool.input_schema if entry is not None else None


def visible_tools(caller: Caller | None) -> list[types.Tool]:
    """The tools this caller's role may use (policy.can), in declaration order."""
    viewer = caller.viewer if caller is not None else None
    return [entry.tool for entry in CATALOG.values() if can(viewer, entry.action)]


async def call_tool(caller: Caller, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
    entry = CATALOG.get(name)
    if entry is None:
        return results.tool_error(ErrorCode.NOT_FOUND, f"No tool named {name!r}.")
    if not can(caller.viewer, entry.action):
        return results.tool_error(ErrorCode.FORBIDDEN, FORBIDDEN_MESSAGE)
    problems = _argument_problems(entry.validator, arguments)
    if problems:
        return results.refused(problems)
    try:
        if entry.spec is None:
            return await _graphql_query(caller, arguments)
        return await _document_tool(caller, entry.spec, arguments)
    except DatabaseUnavailableError:
        return results.tool_error(results.UNAVAILABLE, "The database is unavailable; retry later.")
    except TimeoutError:
        return results.tool_error(results.UNAVAILABLE, "The call took too long; retry later.")


def _argument_problems(validator: Draft202012Validator, arguments: Any) -> list[dict[str, Any]]:
    problems = []
    for error in sorted(validator.iter_errors(arguments), key=lambda e: list(e.path)):
        field = [str(part) for part in error.path]
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [n for n in error.validator_value if n not in error.instance]
            field += missing[:1]
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            field += sorted(n for n in error.instance if n not in known)[:1]
        problems.append(results.typed_error(ErrorCode.INVALID_INPUT, error.message, field or None))
    return problems


async def _document_tool(
    caller: Caller, spec: ToolSpec, arguments: dict[str, Any]
) -> types.CallToolResult:
    outcome = await run_document(
        caller,
        spec.document,
        spec.operation_name,
        spec.variables(arguments),
        read_only=spec.read_only,
    )
    if outcome.errors:
        errors = results.typed_graphql_errors(outcome.errors)
        return results.refused([_flat_field(error) for error in errors])
    value = (outcome.data or {}).get(spec.root_field)
    if value is None:
        # Only agentContext is nullable: no such member, or not one this key may see.
        number = arguments.get("memberNumber")
        return results.tool_error(
            ErrorCode.NOT_FOUND, f"No member {number!r} visible to this key.", ["memberNumber"]
        )
    if spec.input_type is not None:
        user_errors = value.pop("userErrors", [])
        if user_errors:
            return results.from_user_errors([_flat_field(e) for e in user_errors])
    return results.success(value)


def _flat_field(user_error: dict[str, Any]) -> dict[str, Any]:
    """A userError's (or a coded GraphQL error's) field path names the tool's own (flat)
    arguments: ["input", "amount"] becomes ["amount"]."""
    field = user_error.get("field")
    if field and field[0] == "input":
        return {**user_error, "field": field[1:] or None}
    return user_error


async def _graphql_query(caller: Caller, arguments: dict[str, Any]) -> types.CallToolResult:
    query: str = arguments["query"]
    operation_name: str | None = arguments.get("operationName")
    refusal = _not_a_query(query, operation_name, caller.services.settings.max_query_tokens)
    if refusal is not None:
        return refusal
    outcome = await run_document(
        caller, query, operation_name, arguments.get("variables"), read_only=True
    )
    if outcome.errors:
        return results.from_graphql_errors(outcome.errors)
    return results.success(outcome.data or {})


def _not_a_query(
    query: str, operation_name: str | None, max_tokens: int
) -> types.CallToolResult | None:
    """A typed refusal unless the document holds only queries and names the one to run.

    Every operation in the document is checked, not only the one graphql-core would pick:
    without an operationName, strawberry runs a document's *first* operation where the spec
    asks for an error, so `mutation M {...} query Q {...}` would otherwise write. Documents
    that do not parse are left to GraphQL, which explains them the usual way (coded).
    """
    if not query.strip():
        return _query_refusal("The query is empty.")
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for operation in operations:
        if operation.operation is not OperationType.QUERY:
            return _query_refusal(
                f"graphql_query runs queries only, not a {operation.operation.value}: use the"
                " workflow tools (apply_for_loan, ...) to write."
            )
    if not operations:
        return _query_refusal("The document holds no operation to run.")
    if get_operation_ast(document, operation_name) is None:
        if operation_name is None:
            return _query_refusal(
                "The document holds several operations: name one with operationName.",
                "operationName",
            )
        return _query_refusal(f"No operation named {operation_name!r}.", "operationName")
    return None


def _query_refusal(message: str, field: str = "query") -> types.CallToolResult:
    return results.tool_error(ErrorCode.INVALID_INPUT, message, [field])
