"""Declarative relations between models, derived from the ORM relationships, and the batch
queries that load them for many parents at once.

A relation names the parent attribute that holds the key and the target column it matches.
Dataloaders (GraphQL side) and, later, a whole-query SQL planner read the same specs.
Every query takes the reader's `RowScope` (auth/policy.py) with no default: a caller that
forgets it gets a type error, not every row.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BigInteger, Select, String, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from graphql_api.auth.policy import RowScope
from graphql_api.kit.pagination import Ordering, PageRequest
from graphql_api.kit.text import storable
from graphql_api.models import Base


def _key_array_type(column: InstrumentedAttribute[Any]) -> ARRAY[Any]:
    return ARRAY(String) if column.type.python_type is str else ARRAY(BigInteger)


@dataclass(frozen=True, eq=False)
class ByKey:
    """Rows of `column.class_` looked up by a unique column (`id`, `member_number`, a FK)."""

    column: InstrumentedAttribute[Any]

    @property
    def key(self) -> str:
        """Identity for loader registries: two specs on one column share one loader."""
        return f"{self.column.class_.__tablename__}.{self.column.key}"

    @property
    def model(self) -> type[Base]:
        return cast(type[Base], self.column.class_)

    def statement(self, scope: RowScope) -> Select[Any]:
        # `= ANY($1)` keeps one SQL text for every batch size (asyncpg caches statements).
        keys = bindparam("keys", type_=_key_array_type(self.column))
        return select(self.model).where(self.column == func.any(keys), scope.row_filter(self.model))

    async def load(
        self, session: AsyncSession, keys: Sequence[Any], scope: RowScope
    ) -> list[Any | None]:
        # Keys PostgreSQL cannot even compare (NUL, lone surrogates) match no row.
        searchable = [k for k in keys if not isinstance(k, str) or storable(k)]
        if not searchable:
            return [None] * len(keys)
        rows = (await session.scalars(self.statement(scope), {"keys": searchable})).all()
        by_key = {getattr(row, self.column.key): row for row in rows}
        return [by_key.get(key) for key in keys]


@dataclass(frozen=True, eq=False)
class ToOne:
    """Parent -> at most one target: `target_key` equals the parent's `parent_attr` value."""

    name: str
    parent_attr: str
    lookup: ByKey

    @classmethod
    def from_relationship(cls, relationship: InstrumentedAttribute[Any]) -> "ToOne":
        local, remote = relationship.property.local_remote_pairs[0]
        target_column = getattr(relationship.property.mapper.class_, remote.key)
        return cls(relationship.key, local.key, ByKey(target_column))


@dataclass(frozen=True, eq=False)
class ToMany:
    """Parent -> ordered, paginated targets whose `foreign_key` equals the parent's id."""

    name: str
    foreign_key: InstrumentedAttribute[Any]
    ordering: Ordering

    @classmethod
    def from_relationship(
        cls, relationship: InstrumentedAttribute[Any], ordering: Ordering
    ) -> "ToMany":
        _, remote = relationship.property.local_remote_pairs[0]
        target = relationship.property.mapper.class_
        return cls(relationship.key, getattr(target, remote.key), ordering)

    @property
    def model(self) -> type[Base]:
        return cast(type[Base], self.foreign_key.class_)

    @property
    def key(self) -> str:
        return f"{self.model.__tablename__}.{self.foreign_key.key}:{self.name}"

    def page_statement(self, request: PageRequest, scope: RowScope) -> Select[Any]:
        """One LATERAL subquery per parent: each parent gets its own LIMIT on the
        (foreign key, created_at DESC, id DESC) index, in a single statement."""
        parent_ids = bindparam("parent_ids", type_=ARRAY(BigInteger))
        parents = func.unnest(parent_ids).table_valued("parent_id").render_derived("parents")
        inner = select(self.model).where(
            self.foreign_key == parents.c.parent_id, scope.row_filter(self.model)
        )
        if request.after is not None:
            inner = inner.where(self.ordering.after(request.after))
        page = inner.order_by(*self.ordering.order_by()).limit(request.limit + 1).lateral("page")
        return select(aliased(self.model, page)).select_from(parents).join(page, true())

    async def load_pages(
        self,
        session: AsyncSession,
        parent_ids: Sequence[int],
        request: PageRequest,
        scope: RowScope,
    ) -> list[list[Any]]:
        result = await session.scalars(
            self.page_statement(request, scope), {"parent_ids": parent_ids}
        )
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in result:
            grouped[getattr(row, self.foreign_key.key)].append(row)
        return [grouped.get(parent_id, []) for parent_id in parent_ids]

    def count_statement(self, scope: RowScope) -> Select[Any]:
        ids = bindparam("parent_ids", type_=ARRAY(BigInteger))
        return (
            select(self.foreign_key, func.count())
            .where(self.foreign_key == func.any(ids), scope.row_filter(self.model))
            .group_by(self.foreign_key)
        )

    async def load_counts(
        self, session: AsyncSession, parent_ids: Sequence[int], scope: RowScope
    ) -> list[int]:
        result = await session.execute(
            self.count_statement(scope), {"parent_ids": list(parent_ids)}
        )
        counts: dict[int, int] = dict(result.all())
        return [counts.get(parent_id, 0) for parent_id in parent_ids]
