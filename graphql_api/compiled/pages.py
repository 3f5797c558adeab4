"""Connections as SQL: one page of rows (keyset `after`, per-parent LIMIT on the ordering's
index), aggregated into `edges` and `pageInfo`, with `totalCount` counted only when selected.

    (SELECT json_build_object('edges', agg.a1, 'pageInfo', json_build_object(...), ...)
     FROM (SELECT coalesce(json_agg(<edge> ORDER BY <order>), '[]') AS a1, ...
           FROM (SELECT * FROM <table> WHERE <conditions> ORDER BY <order> LIMIT $n) AS t) AS agg)

An aggregate-only SELECT always yields one row, so an empty page is `edges: []`. Without
edges or cursors selected there is no page subquery at all. `hasNextPage` counts at most
`first + 1` matching rows; `hasPreviousPage` is whether `after` was given (as the resolvers).
"""

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from graphql import GraphQLObjectType, GraphQLOutputType, get_named_type
from graphql.execution.collect_fields import FieldDetailsList

from graphql_api.compiled.base import Fallback, SlotValue
from graphql_api.compiled.sql import (
    column_of,
    json_object,
    name_literal,
    order_sql,
    sql_type_of,
    table_of,
)
from graphql_api.graph.declare import ConnectionOf
from graphql_api.kit import formats
from graphql_api.kit.pagination import Ordering
from graphql_api.models import Base

if TYPE_CHECKING:
    from graphql_api.compiled.objects import ObjectCompiler

Conditions = Callable[[str], list[str]]


class _Page:
    """One connection being compiled: its rows' source and the aggregates it needs."""

    def __init__(
        self,
        objects: "ObjectCompiler",
        model: type[Base],
        ordering: Ordering,
        conditions: Conditions,
        slot: int,
        has_after: bool,
    ) -> None:
        self.objects = objects
        self.sql = objects.sql
        self.model = model
        self.ordering = ordering
        self.conditions = conditions
        self.slot = slot
        self.has_after = has_after
        self.rows = self.sql.alias(table_of(model))
        self.agg = self.sql.alias("agg")
        self.aggregates: list[tuple[str, str]] = []

    @property
    def limit(self) -> str:
        # Bound on first use only: a statement must use every parameter it declares.
        return self.sql.bind(SlotValue(self.slot, "limit"), "int")

    def after(self) -> list[str]:
        if not self.has_after:
            return []
        return [
            self.sql.bind(SlotValue(self.slot, f"after{i}"), sql_type_of(column))
            for i, column in enumerate(self.ordering.columns)
        ]

    def aggregate(self, sql: str) -> str:
        name = f"a{len(self.aggregates) + 1}"
        self.aggregates.append((name, sql))
        return f"{self.agg}.{name}"

    def cursor(self) -> str:
        columns = [
            (f"{self.rows}.{column_of(c)}", _cursor_type(c.type.python_type))
            for c in self.ordering.columns
        ]
        return formats.cursor_sql(columns)

    def page_rows(self, *, limit: str, select: str = "*") -> str:
        return self.sql.page_rows(
            self.model,
            self.conditions,
            self.ordering,
            limit=limit,
            after=self.after(),
            select=select,
        )

    def wrap(self, entries: list[tuple[str, str]]) -> str:
        body = json_object(entries)
        if not self.aggregates:
            return f"(SELECT {body})"
        columns = ", ".join(f"{sql} AS {name}" for name, sql in self.aggregates)
        page = self.page_rows(limit=self.limit)
        return f"(SELECT {body} FROM (SELECT {columns} FROM {page} AS {self.rows}) AS {self.agg})"


def _cursor_type(python_type: type) -> type:
    if python_type not in (datetime, int, str):
        raise Fallback(f"no cursor format for {python_type.__name__}")
    return python_type


class Pages:
    def __init__(self, objects: "ObjectCompiler") -> None:
        self.objects = objects

    def relation_connection(
        self,
        kind: ConnectionOf,
        parent: str,
        connection: GraphQLObjectType,
        fields: FieldDetailsList,
    ) -> str:
        relation = kind.relation
        foreign_key = column_of(relation.foreign_key)
        slot, interpreted = self.objects.slot(fields)
        has_after = bool(interpreted.shape[1])  # type: ignore[index]
        page = _Page(
            self.objects,
            relation.model,
            relation.ordering,
            lambda t: [f"{t}.{foreign_key} = {parent}.id"],
            slot,
            has_after,
        )
        return self.connection(page, connection, fields)

    def listing_connection(
        self,
        model: type[Base],
        ordering: Ordering,
        conditions: Conditions,
        slot: int,
        has_after: bool,
        connection: GraphQLObjectType,
        fields: FieldDetailsList,
    ) -> str:
        page = _Page(self.objects, model, ordering, conditions, slot, has_after)
        return self.connection(page, connection, fields)

    def connection(
        self, page: _Page, connection: GraphQLObjectType, fields: FieldDetailsList
    ) -> str:
        entries = []
        for key, group in self.objects.subfields(connection, fields).items():
            name = group[0].node.name.value
            if name == "__typename":
                entries.append((key, name_literal(connection.name)))
            elif name == "edges":
                entries.append((key, self._edges(page, connection, group)))
            elif name == "pageInfo":
                entries.append((key, self._page_info(page, connection, group)))
            elif name == "totalCount":
                entries.append((key, self._total(page)))
            else:
                raise Fallback(f"{connection.name}.{name} has no SQL form")
        return page.wrap(entries)

    def _edges(self, page: _Page, connection: GraphQLObjectType, fields: FieldDetailsList) -> str:
        edge_type = _object(connection.fields["edges"].type)
        entries = []
        for key, group in self.objects.subfields(edge_type, fields).items():
            name = group[0].node.name.value
            if name == "__typename":
                entries.append((key, name_literal(edge_type.name)))
            elif name == "cursor":
                entries.append((key, page.cursor()))
            elif name == "node":
                node_type = _object(edge_type.fields["node"].type)
                entries.append((key, self.objects.row_object(node_type, page.rows, group)))
            else:
                raise Fallback(f"{edge_type.name}.{name} has no SQL form")
        edge = json_object(entries)
        order = order_sql(page.rows, page.ordering)
        return page.aggregate(f"coalesce(json_agg({edge} ORDER BY {order}), '[]'::json)")

    def _page_info(
        self, page: _Page, connection: GraphQLObjectType, fields: FieldDetailsList
    ) -> str:
        info_type = _object(connection.fields["pageInfo"].type)
        entries = []
        for key, group in self.objects.subfields(info_type, fields).items():
            name = group[0].node.name.value
            if name == "__typename":
                value = name_literal(info_type.name)
            elif name == "hasNextPage":
                more = page.page_rows(limit=f"{page.limit} + 1", select="1")
                value = f"(SELECT count(*) > {page.limit} FROM {more} AS more)"
            elif name == "hasPreviousPage":
                value = "TRUE" if page.has_after else "FALSE"
            elif name in ("startCursor", "endCursor"):
                reverse = name == "endCursor"
                order = order_sql(page.rows, page.ordering, reverse=reverse)
                value = page.aggregate(f"(array_agg({page.cursor()} ORDER BY {order}))[1]")
            else:
                raise Fallback(f"PageInfo.{name} has no SQL form")
            entries.append((key, value))
        return json_object(entries)

    def _total(self, page: _Page) -> str:
        t = self.objects.sql.alias("counted")
        where = [*page.conditions(t), self.objects.sql.owned(page.model, t)]
        return f"(SELECT count(*) FROM {table_of(page.model)} {t} WHERE {' AND '.join(where)})"


def _object(type_: GraphQLOutputType) -> GraphQLObjectType:
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        raise Fallback("not an object type")
    return named
