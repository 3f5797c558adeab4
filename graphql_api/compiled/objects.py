"""One object's JSON from its fields' declared kinds (graphql_api/graph/declare.py).

`ObjectCompiler.row_object(type, alias, fields)` is `json_build_object(...)` over the row
`alias`: columns in their output formats, relations as correlated subqueries (to-one: the
row or NULL; capped lists and latest-of: the first rows in the relation's order; connections:
see pages.py), computed values by their SQL form. Fields are grouped exactly as graphql-core
groups them (aliases, fragments, inline fragments, @include/@skip), in the same order.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
    collect_subfields,
)
from graphql.execution.values import VariableValues

from graphql_api.compiled.arguments import Interpreted
from graphql_api.compiled.base import ConstantValue, Fallback
from graphql_api.compiled.pages import Pages
from graphql_api.compiled.sql import (
    StatementBuilder,
    column_of,
    json_object,
    model_column,
    name_literal,
    order_sql,
    table_of,
)
from graphql_api.graph.declare import (
    Attribute,
    CappedList,
    Column,
    Computed,
    ConnectionOf,
    Constant,
    LatestOf,
    Masked,
    NodeId,
    SameRow,
    ToOneRelation,
)
from graphql_api.graph.kinds import TypeKinds
from graphql_api.kit import formats
from graphql_api.kit.batch_queries import ToOne
from graphql_api.models import Base, Role


def _as_is(sql: str) -> str:
    return sql


# How a column of each GraphQL scalar reaches the response (kit/formats.py pairs each SQL form
# with the Python form the resolvers use). Enums are handled by their Python class.
SCALAR_FORMATS: Mapping[str, Callable[[str], str]] = {
    "String": _as_is,
    "Int": _as_is,
    "Boolean": _as_is,
    "JSON": _as_is,
    "Decimal": formats.decimal_sql,
    "DateTime": formats.datetime_sql,
}


@dataclass(frozen=True)
class PlanContext:
    """What compiling one operation under one request's variables needs."""

    schema: GraphQLSchema
    kinds: Mapping[str, TypeKinds]
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode
    role: Role
    # id(field node) -> (slot number, interpretation of its arguments)
    slots: Mapping[int, tuple[int, Interpreted]]


def is_list(type_: GraphQLOutputType) -> bool:
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return isinstance(inner, GraphQLList)


def object_type(type_: GraphQLOutputType) -> GraphQLObjectType:
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        raise Fallback(f"{named.name} is not an object type")
    return named


class ObjectCompiler:
    def __init__(self, plan: PlanContext, sql: StatementBuilder) -> None:
        self.plan = plan
        self.sql = sql
        self.pages = Pages(self)

    def subfields(self, type_: GraphQLObjectType, fields: FieldDetailsList) -> GroupedFieldSet:
        plan = self.plan
        collected = collect_subfields(
            plan.schema, plan.fragments, plan.variables, plan.operation, type_, fields
        )
        return collected.grouped_field_set

    def slot(self, fields: FieldDetailsList) -> tuple[int, Interpreted]:
        found = self.plan.slots.get(id(fields[0].node))
        if found is None:
            raise Fallback("a field with arguments that was not interpreted")
        return found

    def row_object(self, type_: GraphQLObjectType, alias: str, fields: FieldDetailsList) -> str:
        info = self.plan.kinds[type_.name]
        entries = [
            (key, self._row_field(type_, info, alias, group))
            for key, group in self.subfields(type_, fields).items()
        ]
        return json_object(entries)

    def _row_field(
        self, parent: GraphQLObjectType, info: TypeKinds, alias: str, group: FieldDetailsList
    ) -> str:
        name = group[0].node.name.value
        if name == "__typename":
            return name_literal(parent.name)
        kind = info.kinds.get(name)
        field_type = parent.fields[name].type
        if isinstance(kind, Column):
            return self._column(info, name, field_type, alias)
        if isinstance(kind, NodeId):
            return formats.global_id_sql(parent.name, f"{alias}.id")
        if isinstance(kind, Masked):
            column = f"{alias}.{model_column(_model(info), info.attributes[name])}"
            return kind.sql(column) if self.plan.role in kind.roles else column
        if isinstance(kind, Computed):
            return self._computed(kind, alias, field_type, group)
        if isinstance(kind, Constant):
            return self.sql.bind(ConstantValue(kind.value), "text")
        return self._related(parent, info, alias, group, kind)

    def _related(
        self,
        parent: GraphQLObjectType,
        info: TypeKinds,
        alias: str,
        group: FieldDetailsList,
        kind: object,
    ) -> str:
        """Fields whose value is another object (or objects) read from rows."""
        name = group[0].node.name.value
        target = object_type(parent.fields[name].type)
        if isinstance(kind, ToOneRelation):
            return self._to_one(kind.relation, info, alias, target, group)
        if isinstance(kind, CappedList | LatestOf):
            return self._first_rows(kind, alias, target, group)
        if isinstance(kind, SameRow):
            return self.row_object(target, alias, group)
        if isinstance(kind, ConnectionOf):
            return self.pages.relation_connection(kind, alias, target, group)
        raise Fallback(f"{parent.name}.{name} has no SQL form")

    def _column(self, info: TypeKinds, name: str, field_type: GraphQLOutputType, alias: str) -> str:
        attribute: Any = getattr(_model(info), info.attributes[name])
        column = f"{alias}.{column_of(attribute)}"
        named = get_named_type(field_type)
        if isinstance(named, GraphQLEnumType):
            return formats.enum_sql(column, attribute.type.enum_class)
        output = SCALAR_FORMATS.get(named.name)
        if output is None:
            raise Fallback(f"no SQL format for {named.name}")
        return output(column)

    def _to_one(
        self,
        relation: ToOne,
        info: TypeKinds,
        alias: str,
        target: GraphQLObjectType,
        group: FieldDetailsList,
    ) -> str:
        model = relation.lookup.model
        t = self.sql.alias(table_of(model))
        parent_key = f"{alias}.{model_column(_model(info), relation.parent_attr)}"
        return (
            f"(SELECT {self.row_object(target, t, group)} FROM {table_of(model)} {t}"
            f" WHERE {t}.{column_of(relation.lookup.column)} = {parent_key}"
            f" AND {self.sql.owned(model, t)})"
        )

    def _first_rows(
        self,
        kind: CappedList | LatestOf,
        alias: str,
        target: GraphQLObjectType,
        group: FieldDetailsList,
    ) -> str:
        relation = kind.relation
        t = self.sql.alias(table_of(relation.model))
        node = self.row_object(target, t, group)
        if isinstance(kind, LatestOf):
            return f"(SELECT {node} FROM {self.sql.rows(relation, alias, limit=1)} AS {t})"
        rows = self.sql.rows(relation, alias, limit=kind.cap)
        order = order_sql(t, relation.ordering)
        return (
            f"(SELECT coalesce(json_agg({node} ORDER BY {order}), '[]'::json) FROM {rows} AS {t})"
        )

    def _computed(
        self, kind: Computed, alias: str, field_type: GraphQLOutputType, group: FieldDetailsList
    ) -> str:
        value = kind.sql(alias, self.sql)
        named = get_named_type(field_type)
        if not isinstance(named, GraphQLObjectType):
            return value  # a scalar: the SQL form already prints the output format
        v = self.sql.alias("value")
        item = self._value_object(named, f"{v}.value", group)
        if is_list(field_type):
            return (
                f"(SELECT coalesce(json_agg({item} ORDER BY {v}.position), '[]'::json)"
                f" FROM json_array_elements({value}) WITH ORDINALITY AS {v}(value, position))"
            )
        # OFFSET 0 keeps the value computed once, however many of its keys are selected.
        value_once = f"(SELECT {value} AS value OFFSET 0)"
        return f"(SELECT {item} FROM {value_once} AS {v} WHERE {v}.value IS NOT NULL)"

    def _value_object(self, type_: GraphQLObjectType, value: str, fields: FieldDetailsList) -> str:
        """An object whose fields are keys of the JSON `value` (a computed object)."""
        kinds = self.plan.kinds[type_.name].kinds
        entries = []
        for key, group in self.subfields(type_, fields).items():
            name = group[0].node.name.value
            if name == "__typename":
                entries.append((key, name_literal(type_.name)))
            elif isinstance(kinds.get(name), Attribute):
                entries.append((key, f"{value}->{name_literal(name)}"))
            else:
                raise Fallback(f"{type_.name}.{name} is not a value attribute")
        return json_object(entries)


def _model(info: TypeKinds) -> type[Base]:
    if info.model is None:
        raise Fallback(f"{info.name} is not row-backed")
    return info.model
