"""The statement builder: table aliases, bound parameters and member scoping, plus the few
SQL shapes every part of a compiled statement uses.

Request values only ever enter as `$n` parameters (with an explicit type), never as text.
What is spliced is either a name from our own models or a GraphQL name from the document
(response keys, type names), which the GraphQL grammar restricts to [_A-Za-z][_0-9A-Za-z]*.
"""

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from graphql_api.auth.policy import RowScope
from graphql_api.compiled.base import Fallback, ParamRef, SlotValue, ViewerMember
from graphql_api.kit.batch_queries import ToMany
from graphql_api.kit.pagination import Ordering
from graphql_api.models import Base, Feedback, Member, Recommendation

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
# json_build_object takes at most 100 arguments; wider objects use row_to_json.
_MAX_BUILD_PAIRS = 50
_MAX_IDENTIFIER_BYTES = 63
_SQL_TYPES = {datetime: "timestamptz", int: "bigint", str: "text"}


class StatementBuilder:
    """Builds one statement: fresh aliases, numbered parameters, the viewer's scope.

    Only `scope.shape` enters the text (member-scoped or not, which models are unreadable:
    both follow from the role); the member itself is a bound parameter."""

    def __init__(self, scope: RowScope) -> None:
        self.scope = scope
        self.params: list[ParamRef] = []
        self._numbers: dict[ParamRef, int] = {}
        self._aliases = 0

    def alias(self, hint: str) -> str:
        self._aliases += 1
        return f"{re.sub(r'[^a-z_]', '', hint.lower())[:16] or 't'}_{self._aliases}"

    def bind(self, ref: ParamRef, sql_type: str) -> str:
        number = self._numbers.get(ref)
        if number is None:
            self.params.append(ref)
            number = self._numbers[ref] = len(self.params)
        return f"${number}::{sql_type}"

    def slot_binder(self, slot: int) -> Any:
        """bind(value name, SQL type) for one argument slot's values."""
        return lambda name, sql_type: self.bind(SlotValue(slot, name), sql_type)

    def owned(self, model: type[Base], alias: str) -> str:
        """The authorization policy's row filter (graphql_api/auth/policy.py `RowScope`), as
        SQL on `alias`; tests/test_compiled_scoping.py holds the two to the same rows."""
        if not self.scope.may_read(model):
            return "FALSE"
        if self.scope.member_id is None:
            return "TRUE"
        member = self.bind(ViewerMember(), "bigint")
        if model is Member:
            return f"{alias}.id = {member}"
        if model is Recommendation:
            return f"{alias}.portfolio_id IN (SELECT id FROM portfolios WHERE member_id = {member})"
        if model is Feedback:
            return (
                f"{alias}.prediction_id IN (SELECT id FROM predictions WHERE member_id = {member})"
            )
        if "member_id" in model.__table__.c:
            return f"{alias}.member_id = {member}"
        raise Fallback(f"no ownership rule for {model.__name__}")

    def rows(self, relation: ToMany, parent: str, *, limit: int | str) -> str:
        return self.page_rows(
            relation.model,
            lambda t: [f"{t}.{column_of(relation.foreign_key)} = {parent}.id"],
            relation.ordering,
            limit=limit,
        )

    def page_rows(
        self,
        model: type[Base],
        conditions: Any,
        ordering: Ordering,
        *,
        limit: int | str,
        after: Sequence[str] = (),
        select: str = "*",
    ) -> str:
        """`(SELECT ... FROM table WHERE conditions AND owned [AND keyset] ORDER BY ... LIMIT)`;
        `conditions` maps the inner alias to a list of conditions."""
        t = self.alias(table_of(model))
        where = [*conditions(t), self.owned(model, t)]
        if after:
            where.append(keyset_sql(t, ordering, after))
        order = f" ORDER BY {order_sql(t, ordering)}" if select == "*" else ""
        return (
            f"(SELECT {select} FROM {table_of(model)} {t} WHERE {' AND '.join(where)}"
            f"{order} LIMIT {limit})"
        )


def table_of(model: type[Base]) -> str:
    return str(model.__tablename__)


def column_of(attribute: InstrumentedAttribute[Any]) -> str:
    return str(attribute.property.columns[0].name)


def model_column(model: type[Base], attribute: str) -> str:
    return column_of(getattr(model, attribute))


def sql_type_of(attribute: InstrumentedAttribute[Any]) -> str:
    return _SQL_TYPES[attribute.type.python_type]


def order_sql(alias: str, ordering: Ordering, *, reverse: bool = False) -> str:
    direction = "DESC" if ordering.descending != reverse else "ASC"
    return ", ".join(f"{alias}.{column_of(c)} {direction}" for c in ordering.columns)


def keyset_sql(alias: str, ordering: Ordering, bound: Sequence[str]) -> str:
    """Rows strictly after the cursor's values (a row-value comparison on the index)."""
    columns = ", ".join(f"{alias}.{column_of(c)}" for c in ordering.columns)
    return f"({columns}) {'<' if ordering.descending else '>'} ({', '.join(bound)})"


def name_literal(name: str) -> str:
    """A GraphQL name (response key, type name) as a SQL string literal."""
    if not _NAME.fullmatch(name):
        raise Fallback(f"not a GraphQL name: {name[:40]!r}")
    return f"'{name}'"


def json_object(entries: Sequence[tuple[str, str]]) -> str:
    """A JSON object with these keys, in this order, from SQL expressions."""
    if len(entries) <= _MAX_BUILD_PAIRS:
        pairs = ", ".join(f"{name_literal(key)}, {value}" for key, value in entries)
        return f"json_build_object({pairs})"
    if any(len(key.encode()) > _MAX_IDENTIFIER_BYTES for key, _ in entries):
        raise Fallback("a response key too long for a column name")
    columns = ", ".join(f'{value} AS "{key}"' for key, value in entries)
    return f"(SELECT row_to_json(wide) FROM (SELECT {columns}) AS wide)"
