"""Query cost: the worst-case number of rows an operation can return, checked before any SQL.

Like GitHub's node limit: every connection multiplies what is below it by its effective
`first` (default 20, at most 100), every list by its cap, and each row-backed object (a Relay
`Node`: a member, a loan, a feedback row, ...) costs 1 per place it can appear. Value objects
that are part of their parent row (connections, edges, `pageInfo`, `lendingAssessment`,
allocation `lines`) cost nothing themselves but still multiply what they contain. Scalars
and introspection cost nothing. The estimate is an upper bound that ignores the data: a
`feedback` list is counted at its cap of 100 whether a prediction has 0 rows or 158.

Why worst case: the amplification loop `predictions { feedback { prediction { feedback ... } } }`
returns nothing special on a quiet database, but any caller allowed to submit feedback can
fill it, and nesting it 3 times then took 18 s of blocked event loop and 4 GB of memory. The
bound refuses the shape, whatever the data is today.

Fields are merged by response key as execution merges them (a fragment spread twice returns
its fields once), so the estimate follows what is returned and stays linear in the document.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
)
from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import ExecutionContext

from graphql_api.config import Settings
from graphql_api.graph.declare import KIND_KEY
from graphql_api.graph.mutations import MAX_USER_ERRORS
from graphql_api.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from graphql_api.predictions.repository import MAX_MODEL_VERSIONS

QUERY_TOO_COMPLEX: Final = "QUERY_TOO_COMPLEX"
DEFINITION_BACKREF: Final = GraphQLCoreConverter.DEFINITION_BACKREF
ANY_TYPE: Final = "*"

# Caps of the list fields that are not declared on a row-backed type (graph/declare.py
# declares the rest: capped lists and computed lists carry their cap, connections their
# default and maximum page). A test fails when a list of objects has no cap at all.
UNDECLARED_LIST_CAPS: Final[Mapping[tuple[str, str], int]] = {
    ("Query", "modelPerformance"): MAX_MODEL_VERSIONS,
    # Every mutation payload's `userErrors`.
    (ANY_TYPE, "userErrors"): MAX_USER_ERRORS,
}
_CONNECTION_SUFFIX: Final = "Connection"
_EDGES: Final = "edges"


@dataclass(frozen=True)
class _Scope:
    """Where a selection set is measured: its type, and the page size of the connection it
    belongs to (for that connection's `edges`)."""

    type_: GraphQLNamedType
    page_size: int | None = None


class CostEstimator:
    """Measures one operation of a validated document under coerced variable values."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self._schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return self._merged([operation.selection_set], _Scope(root))

    def _merged(self, selection_sets: Sequence[SelectionSetNode], scope: _Scope) -> int:
        """The cost of selection sets that execution merges into one object. As graphql-core's
        CollectFields does, fields are grouped by response key and each fragment is expanded
        once per object: a fragment spread twice returns its fields once, so a "fragment
        bomb" costs what it returns, and measuring it stays linear in the document."""
        groups: dict[tuple[str, str], list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._collect(selection_set, scope.type_, groups, visited)
        return sum(
            self._field(nodes, self._named(type_name), scope)
            for (type_name, _), nodes in groups.items()
        )

    def _collect(
        self,
        selection_set: SelectionSetNode,
        type_: GraphQLNamedType,
        groups: dict[tuple[str, str], list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = (type_.name, (selection.alias or selection.name).value)
                groups.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._named(condition.name.value) if condition else type_
                self._collect(selection.selection_set, inner, groups, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = self._fragments[name]
                inner = self._named(fragment.type_condition.name.value)
                self._collect(fragment.selection_set, inner, groups, visited)

    def _field(self, nodes: list[FieldNode], type_: GraphQLNamedType, scope: _Scope) -> int:
        """One response key: validation guarantees its merged nodes share name and arguments."""
        node = nodes[0]
        name = node.name.value
        if name.startswith("__") or not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = type_.fields.get(name)
        if definition is None:
            return 0
        target = get_named_type(definition.type)
        if is_leaf_type(target):
            return 0  # scalars and lists of them (an error's input path) are no rows
        count = self._items(type_, name, definition, scope.page_size)
        inner_scope = _Scope(target, self._page_size(target, definition, node))
        selections = [n.selection_set for n in nodes if n.selection_set is not None]
        return count * (_row_cost(target) + self._merged(selections, inner_scope))

    def _items(
        self,
        type_: GraphQLNamedType,
        name: str,
        definition: GraphQLField,
        page_size: int | None,
    ) -> int:
        """How many values of the field one parent can hold."""
        if not _is_list(definition.type):
            return 1
        if name == _EDGES and page_size is not None:
            return page_size
        return list_cap(type_.name, name, definition)

    def _page_size(
        self, target: GraphQLNamedType, definition: GraphQLField, node: FieldNode
    ) -> int | None:
        if not target.name.endswith(_CONNECTION_SUFFIX) or "first" not in definition.args:
            return None
        kind = declared_kind(definition)
        default = getattr(kind, "default_page", DEFAULT_PAGE_SIZE)
        maximum = getattr(kind, "max_page", MAX_PAGE_SIZE)
        first = get_argument_values(definition, node, self._variables).get("first")
        if first is None:
            return int(default)
        # Out-of-range values are refused by the resolvers; count what could be returned.
        return max(0, min(int(first), int(maximum)))

    def _included(self, node: SelectionNode) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self._variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self._variables)
        return not (include is not None and include.get("if") is False)

    def _named(self, name: str) -> GraphQLNamedType:
        named = self._schema.get_type(name)
        assert named is not None, f"validated documents only name known types ({name})"
        return named


def declared_kind(field: GraphQLField) -> object | None:
    """The kind graph/declare.py gave the field, read from the strawberry field behind it."""
    strawberry_field = (field.extensions or {}).get(DEFINITION_BACKREF)
    metadata = getattr(strawberry_field, "metadata", None) or {}
    return metadata.get(KIND_KEY)


def list_cap(type_name: str, field_name: str, field: GraphQLField) -> int:
    """The cap of a plain list field; KeyError for a list nobody capped (a test prevents it)."""
    cap = getattr(declared_kind(field), "cap", None)
    if cap is None:
        cap = UNDECLARED_LIST_CAPS.get((type_name, field_name)) or UNDECLARED_LIST_CAPS.get(
            (ANY_TYPE, field_name)
        )
    if cap is None:
        raise KeyError(f"{type_name}.{field_name} is a list without a cap")
    return int(cap)


def _is_list(type_: GraphQLOutputType) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _row_cost(type_: GraphQLNamedType) -> int:
    return 1 if _is_row_backed(type_) else 0


@cache
def _is_row_backed(type_: GraphQLNamedType) -> bool:
    """Relay nodes are the rows: object types implementing `Node`, and `Node` itself."""
    if isinstance(type_, GraphQLInterfaceType):
        return type_.name == "Node"
    if isinstance(type_, GraphQLObjectType):
        return any(interface.name == "Node" for interface in type_.interfaces)
    return False


def estimate_nodes(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    raw_variables: Mapping[str, Any] | None,
) -> int | None:
    """The worst-case rows the operation can return, or None when there is no such operation
    or its variables do not coerce (execution then refuses it without running SQL)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    variables = get_variable_values(
        schema, operation.variable_definitions or (), dict(raw_variables or {})
    )
    if isinstance(variables, list):
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return CostEstimator(schema, fragments, variables).operation(operation)


class QueryCostLimit(SchemaExtension):
    """Refuses, before execution (so before any SQL), an operation whose worst case exceeds
    `max_query_nodes`: `QUERY_TOO_COMPLEX`, with the estimate and the limit in `extensions`.
    Runs after validation, where variables can be coerced; an operation whose variables do
    not coerce is left to execution, which refuses it without running SQL either."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        refusal = _refusal(context)
        if refusal is not None:
            context.result = GraphQLExecutionResult(data=None, errors=[refusal])
        yield


def _refusal(context: ExecutionContext) -> GraphQLError | None:
    document = context.graphql_document
    settings = getattr(context.context, "settings", None)
    if document is None or not isinstance(settings, Settings):
        return None
    estimate = estimate_nodes(
        context.schema._schema, document, context.operation_name, context.variables
    )
    if estimate is None or estimate <= settings.max_query_nodes:
        return None
    return too_complex(estimate, settings.max_query_nodes)


def too_complex(estimate: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"This operation could return up to {estimate:,} objects; at most {limit:,} are"
        " allowed. Ask for smaller pages (`first`) or fewer nested lists, and page through"
        " the rest.",
        extensions={"code": QUERY_TOO_COMPLEX, "estimatedNodes": estimate, "maxNodes": limit},
    )
