"""Every field of the read schema has a declared kind (graphql_api/graph/declare.py), and
each relation kind agrees with the GraphQL type the field returns."""

from collections.abc import Iterator

from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    get_named_type,
)

from graphql_api.compiled.roots import ROOT_FIELDS
from graphql_api.graph.declare import CappedList, ConnectionOf, LatestOf, ToOneRelation
from graphql_api.graph.kinds import type_kinds
from graphql_api.schema import schema


def _read_types() -> Iterator[GraphQLObjectType]:
    """Object types reachable from Query (through interfaces' implementations too)."""
    graphql_schema = schema._schema
    seen: set[str] = set()
    pending: list[GraphQLObjectType | GraphQLInterfaceType] = [graphql_schema.query_type]  # type: ignore[list-item]
    while pending:
        current = pending.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        if isinstance(current, GraphQLInterfaceType):
            pending.extend(graphql_schema.get_possible_types(current))
            continue
        yield current
        for field in current.fields.values():
            named = get_named_type(field.type)
            if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                pending.append(named)


def test_every_field_of_the_read_schema_has_a_kind() -> None:
    kinds = type_kinds(schema)
    unclassified = []
    for graphql_type in _read_types():
        if graphql_type.name == "Query":
            unclassified += [f"Query.{f}" for f in graphql_type.fields if f not in ROOT_FIELDS]
            continue
        declared = kinds[graphql_type.name].kinds
        unclassified += [
            f"{graphql_type.name}.{f}" for f in graphql_type.fields if f not in declared
        ]
    assert unclassified == []
    assert set(ROOT_FIELDS) == set(schema._schema.query_type.fields)  # type: ignore[union-attr]


def _object(type_: object) -> GraphQLObjectType:
    named = get_named_type(type_)  # type: ignore[call-overload]
    assert isinstance(named, GraphQLObjectType)
    return named


def _is_list(type_: GraphQLOutputType) -> bool:
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return isinstance(inner, GraphQLList)


def test_relation_kinds_lead_to_the_type_the_field_returns() -> None:
    kinds = type_kinds(schema)
    checked = 0
    for graphql_type in _read_types():
        if graphql_type.name == "Query":
            continue
        for name, kind in kinds[graphql_type.name].kinds.items():
            field = graphql_type.fields[name]
            target = get_named_type(field.type).name
            if isinstance(kind, ToOneRelation):
                assert kinds[target].model is kind.relation.lookup.model, name
                assert kind.nullable == (not isinstance(field.type, GraphQLNonNull)), name
            elif isinstance(kind, ConnectionOf):
                connection = _object(schema._schema.get_type(target))
                node_type = _object(_object(connection.fields["edges"].type).fields["node"].type)
                assert kinds[node_type.name].model is kind.relation.model, name
            elif isinstance(kind, CappedList | LatestOf):
                assert kinds[target].model is kind.relation.model, name
                assert _is_list(field.type) == isinstance(kind, CappedList), name
            else:
                continue
            checked += 1
    assert checked >= 15
