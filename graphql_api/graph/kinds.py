"""The declared kind of every field, per GraphQL type, read from the built schema.

Row-backed and value types declare their fields with graphql_api/graph/declare.py; Relay's
structural types (connections, edges, `PageInfo`) and every NodeRow's `id` are classified
here by what they are. `kind_of(type name, field name)` is None for a field nobody classified:
tests/test_field_kinds.py walks the read schema and fails on any.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition

from graphql_api.graph.declare import KIND_KEY, FieldKind, NodeId
from graphql_api.graph.mapping import RowBacked
from graphql_api.graph.nodes import NodeRow
from graphql_api.models import Base


@dataclass(frozen=True)
class Edges:
    """A connection's `edges`: one edge per row of the page."""


@dataclass(frozen=True)
class PageInfoOf:
    """A connection's `pageInfo`."""


@dataclass(frozen=True)
class TotalCount:
    """A connection's `totalCount`: rows across all pages (counted only when selected)."""


@dataclass(frozen=True)
class EdgeCursor:
    """An edge's opaque keyset `cursor`."""


@dataclass(frozen=True)
class EdgeNode:
    """An edge's `node`: the row."""


@dataclass(frozen=True)
class PageInfoValue:
    """`hasNextPage`, `hasPreviousPage`, `startCursor` or `endCursor`."""

    name: str


StructuralKind = Edges | PageInfoOf | TotalCount | EdgeCursor | EdgeNode | PageInfoValue
AnyKind = FieldKind | StructuralKind

_CONNECTION_FIELDS: Mapping[str, StructuralKind] = {
    "edges": Edges(),
    "pageInfo": PageInfoOf(),
    "totalCount": TotalCount(),
}
_EDGE_FIELDS: Mapping[str, StructuralKind] = {"cursor": EdgeCursor(), "node": EdgeNode()}
_PAGE_INFO_FIELDS: Mapping[str, StructuralKind] = {
    name: PageInfoValue(name)
    for name in ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")
}


@dataclass(frozen=True)
class TypeKinds:
    """One object type: its Python class, its model when row-backed, and per GraphQL field
    name the field's kind and Python attribute name."""

    name: str
    origin: type[Any]
    model: type[Base] | None
    kinds: Mapping[str, AnyKind]
    attributes: Mapping[str, str]


@cache
def type_kinds(schema: strawberry.Schema) -> Mapping[str, TypeKinds]:
    """Every object type of the schema (interfaces and inputs excluded), by GraphQL name."""
    found: dict[str, TypeKinds] = {}
    name_of = schema.config.name_converter
    # Keyed by the type map's names: a specialised generic (`MemberEdge`) keeps its generic
    # definition's name (`Edge`).
    for type_name, concrete in schema.schema_converter.type_map.items():
        definition = concrete.definition
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        if definition.is_input or definition.is_interface:
            continue
        origin = definition.origin
        kinds: dict[str, AnyKind] = {}
        attributes: dict[str, str] = {}
        structural = _structural_fields(origin)
        for field in definition.fields:
            name = name_of.get_graphql_name(field)
            attributes[name] = field.python_name
            metadata: Mapping[str, Any] = field.metadata or {}
            declared = metadata.get(KIND_KEY)
            kind = declared or structural.get(name)
            if kind is None and name == "id" and issubclass(origin, NodeRow):
                kind = NodeId()
            if kind is not None:
                kinds[name] = kind
        model = origin.__dict__.get("__model__") if issubclass(origin, RowBacked) else None
        found[type_name] = TypeKinds(type_name, origin, model, kinds, attributes)
    return found


def _structural_fields(origin: type[Any]) -> Mapping[str, StructuralKind]:
    if issubclass(origin, relay.Connection):
        return _CONNECTION_FIELDS
    if issubclass(origin, relay.Edge):
        return _EDGE_FIELDS
    if issubclass(origin, relay.PageInfo):
        return _PAGE_INFO_FIELDS
    return {}


def kind_of(schema: strawberry.Schema, type_name: str, field_name: str) -> AnyKind | None:
    kinds = type_kinds(schema).get(type_name)
    return None if kinds is None else kinds.kinds.get(field_name)
