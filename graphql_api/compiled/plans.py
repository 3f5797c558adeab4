"""Per request: from (query, operation, variables, viewer) to one statement and its values.

The statement text depends only on the document, the operation, the viewer's role, the shape
of its row scope (auth/policy.py `RowScope.shape`: member-scoped or not, which models it may
not read), the *shape* of the arguments (is `after` given, which filters, which type a global id
names) and the @include/@skip outcomes; it is compiled once per such signature and kept with the
prepared document. Values (member numbers, page sizes, cursor positions, filter values, the
viewer's member) are bound, so asyncpg's prepared-statement cache sees one text per plan.

None means "answer with the resolvers": that path produces every refusal (FORBIDDEN, argument
and variable errors, QUERY_TOO_COMPLEX) with its exact message and path.
"""

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLIncludeDirective, GraphQLSkipDirective
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)

from graphql_api.auth import policy
from graphql_api.auth.matrix import QUERY_ACTIONS
from graphql_api.auth.service import Viewer
from graphql_api.compiled.arguments import Interpreted
from graphql_api.compiled.base import ConstantValue, Fallback, ParamRef, SlotValue, ViewerMember
from graphql_api.compiled.document import MAX_PLANS_PER_DOCUMENT, PreparedDocument, prepare
from graphql_api.compiled.objects import ObjectCompiler, PlanContext
from graphql_api.compiled.roots import ROOT_FIELDS
from graphql_api.compiled.sql import StatementBuilder, json_object, name_literal
from graphql_api.config import Settings
from graphql_api.graph.kinds import type_kinds
from graphql_api.schema import schema
from graphql_api.security.cost import CostEstimator
from graphql_api.security.limits import rules_for


@dataclass(frozen=True)
class CompiledPlan:
    sql: str
    params: tuple[ParamRef, ...]


@dataclass(frozen=True)
class Statement:
    sql: str
    params: list[Any]


_NOT_COMPILED = object()


def plan_request(
    query: str,
    operation_name: str | None,
    raw_variables: dict[str, Any] | None,
    viewer: Viewer,
    settings: Settings,
) -> Statement | None:
    prepared = prepare(query, operation_name, rules_for(settings), settings.max_query_tokens)
    if prepared is None or not _allowed(prepared, viewer):
        return None
    graphql_schema = schema._schema
    definitions = prepared.operation.variable_definitions or ()
    variables = get_variable_values(graphql_schema, definitions, dict(raw_variables or {}))
    if isinstance(variables, list):
        return None
    try:
        interpreted = _interpret(prepared, variables)
    except (GraphQLError, Fallback):
        return None
    scope = policy.read_scope(viewer)
    included = tuple(_included(node, variables) for node in prepared.conditional)
    if _cost(prepared, variables, included, interpreted) > settings.max_query_nodes:
        return None  # the resolvers refuse it: QUERY_TOO_COMPLEX
    # The role decides the masking, the scope's shape the row filters (its member is bound).
    signature = (viewer.role, scope.shape, tuple(i.shape for i in interpreted), included)
    plan = prepared.plans.get(signature, _NOT_COMPILED)
    if plan is _NOT_COMPILED:
        plan = _compile(prepared, variables, viewer, interpreted, scope)
        if len(prepared.plans) < MAX_PLANS_PER_DOCUMENT:
            prepared.plans[signature] = plan
    if not isinstance(plan, CompiledPlan):
        return None
    member = scope.member_id
    return Statement(plan.sql, [_value(ref, interpreted, member) for ref in plan.params])


def _interpret(prepared: PreparedDocument, variables: VariableValues) -> list[Interpreted]:
    """Each slot's arguments, interpreted; literal-only slots once per document."""
    interpreted: list[Interpreted] = []
    for index, slot in enumerate(prepared.slots):
        known: Interpreted | None = prepared.literal_slots.get(index)
        if known is None:
            known = slot.interpret(get_argument_values(slot.field, slot.node, variables))
            if slot.literal:
                prepared.literal_slots[index] = known
        interpreted.append(known)
    return interpreted


def _cost(
    prepared: PreparedDocument,
    variables: VariableValues,
    included: tuple[bool, ...],
    interpreted: list[Interpreted],
) -> int:
    """security/cost.py's estimate, which depends only on the @include/@skip outcomes and
    the page sizes (each slot's validated `first`): computed once per such combination."""
    key = (included, tuple(i.values.get("limit") for i in interpreted))
    cost = prepared.costs.get(key)
    if cost is None:
        estimator = CostEstimator(schema._schema, prepared.fragment_definitions, variables)
        cost = estimator.operation(prepared.operation)
        if len(prepared.costs) < MAX_PLANS_PER_DOCUMENT:
            prepared.costs[key] = cost
    return cost


def _allowed(prepared: PreparedDocument, viewer: Viewer) -> bool:
    """Every root field compiles and the role may use it (else the resolvers say FORBIDDEN)."""
    for name in prepared.root_fields:
        if name == "__typename":
            continue
        root = ROOT_FIELDS.get(name)
        if root is None or root.compile is None or not policy.can(viewer, QUERY_ACTIONS[name]):
            return False
    return True


def _included(node: Any, variables: VariableValues) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include is not None and include.get("if") is False)


def _compile(
    prepared: PreparedDocument,
    variables: VariableValues,
    viewer: Viewer,
    interpreted: list[Interpreted],
    scope: policy.RowScope,
) -> CompiledPlan | None:
    graphql_schema = schema._schema
    query_type = graphql_schema.query_type
    assert query_type is not None
    context = PlanContext(
        schema=graphql_schema,
        kinds=type_kinds(schema),
        fragments=prepared.fragments,
        variables=variables,
        operation=prepared.operation,
        role=viewer.role,
        slots={id(s.node): (i, interpreted[i]) for i, s in enumerate(prepared.slots)},
    )
    builder = StatementBuilder(scope)
    objects = ObjectCompiler(context, builder)
    collected = collect_fields(
        graphql_schema, prepared.fragments, variables, query_type, prepared.operation
    )
    entries = []
    try:
        for key, group in collected.grouped_field_set.items():
            name = group[0].node.name.value
            if name == "__typename":
                entries.append((key, name_literal(query_type.name)))
                continue
            compile_root = ROOT_FIELDS[name].compile
            if compile_root is None:
                return None
            entries.append((key, compile_root(objects, query_type.fields[name], group)))
        sql = f"SELECT ({json_object(entries)})::text"
    except Fallback:
        return None
    return CompiledPlan(sql, tuple(builder.params))


def _value(ref: ParamRef, interpreted: list[Interpreted], scope: int | None) -> Any:
    if isinstance(ref, SlotValue):
        return interpreted[ref.slot].values[ref.name]
    if isinstance(ref, ConstantValue):
        return ref.value
    if isinstance(ref, ViewerMember):
        return scope
    raise TypeError(ref)
