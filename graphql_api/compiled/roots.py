"""The root fields: how each reads its arguments and compiles, or None for resolver-only.

Every Query field has an entry (a test checks), so a new root field cannot silently bypass
the compiled path's checks: without a `compile` it always runs on the resolver path.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import GraphQLField
from graphql.execution.collect_fields import FieldDetailsList

from graphql_api.compiled import arguments
from graphql_api.compiled.arguments import Interpreted, Interpreter
from graphql_api.compiled.base import SlotValue
from graphql_api.compiled.listings import (
    AUDIT_LOGS,
    LOAN_APPLICATIONS,
    MEMBERS,
    PREDICTIONS,
    ListingSpec,
)
from graphql_api.compiled.objects import ObjectCompiler, object_type
from graphql_api.compiled.sql import table_of
from graphql_api.models import Member

RootCompiler = Callable[[ObjectCompiler, GraphQLField, FieldDetailsList], str]


@dataclass(frozen=True)
class RootField:
    interpreter: Interpreter | None  # None: the field takes no arguments
    compile: RootCompiler | None  # None: always answered by the resolvers


def _member_row(objects: ObjectCompiler, field: GraphQLField, group: FieldDetailsList) -> str:
    """`member` and `agentContext`: one member by number (an AgentContext is built over the
    member's row), or null."""
    sql = objects.sql
    slot, _ = objects.slot(group)
    m = sql.alias("members")
    number = sql.bind(SlotValue(slot, "memberNumber"), "text")
    body = objects.row_object(object_type(field.type), m, group)
    return (
        f"(SELECT {body} FROM members {m}"
        f" WHERE {m}.member_number = {number} AND {sql.owned(Member, m)})"
    )


@cache
def _row_types() -> Mapping[str, Any]:
    from graphql_api.graph.kinds import type_kinds
    from graphql_api.graph.nodes import NodeRow
    from graphql_api.schema import schema

    kinds = type_kinds(schema)
    return {name: k.model for name, k in kinds.items() if issubclass(k.origin, NodeRow)}


def _node_arguments(args: Mapping[str, Any]) -> Interpreted:
    return arguments.node_id(frozenset(_row_types()))(args)


def _node(objects: ObjectCompiler, field: GraphQLField, group: FieldDetailsList) -> str:
    slot, interpreted = objects.slot(group)
    type_name = interpreted.shape[1]  # type: ignore[index]
    if type_name is None:
        return "NULL"  # no row type of that name, or no row id: null, as the resolver
    model = _row_types()[type_name]
    node_type = objects.plan.schema.get_type(type_name)
    t = objects.sql.alias(table_of(model))
    row_id = objects.sql.bind(SlotValue(slot, "id"), "bigint")
    body = objects.row_object(object_type(node_type), t, group)  # type: ignore[arg-type]
    return (
        f"(SELECT {body} FROM {table_of(model)} {t}"
        f" WHERE {t}.id = {row_id} AND {objects.sql.owned(model, t)})"
    )


def _listing(spec: ListingSpec) -> RootField:
    def compile_listing(
        objects: ObjectCompiler, field: GraphQLField, group: FieldDetailsList
    ) -> str:
        slot, interpreted = objects.slot(group)
        shape: Any = interpreted.shape  # ("listing", after given?, filter tokens)
        _, has_after, tokens = shape
        bind = objects.sql.slot_binder(slot)
        return objects.pages.listing_connection(
            spec.model,
            spec.ordering,
            lambda t: spec.conditions(tokens, t, bind),
            slot,
            has_after,
            object_type(field.type),
            group,
        )

    return RootField(spec.interpreter(), compile_listing)


ROOT_FIELDS: Mapping[str, RootField] = {
    "member": RootField(arguments.member_number, _member_row),
    "agentContext": RootField(arguments.member_number, _member_row),
    "node": RootField(_node_arguments, _node),
    "members": _listing(MEMBERS),
    "loanApplications": _listing(LOAN_APPLICATIONS),
    "predictions": _listing(PREDICTIONS),
    "auditLogs": _listing(AUDIT_LOGS),
    # An aggregate over every prediction: the resolver's one statement is already the plan.
    "modelPerformance": RootField(None, None),
}
