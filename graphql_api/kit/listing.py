"""Top-level lists: a model, filter conditions and an ordering, paged by keyset."""

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.policy import RowScope
from graphql_api.kit.pagination import Ordering, Page, PageRequest
from graphql_api.kit.text import storable
from graphql_api.models import Base


@dataclass(frozen=True)
class Listing:
    model: type[Base]
    ordering: Ordering
    conditions: tuple[ColumnElement[bool], ...] = ()

    def scoped(self, scope: RowScope) -> "Listing":
        """The same listing restricted to the rows `scope` may read (no-op when unrestricted)."""
        if scope.unrestricted:
            return self
        return replace(self, conditions=(*self.conditions, scope.row_filter(self.model)))

    def page_statement(self, request: PageRequest) -> Select[Any]:
        statement = select(self.model).where(*self.conditions)
        if request.after is not None:
            statement = statement.where(self.ordering.after(request.after))
        return statement.order_by(*self.ordering.order_by()).limit(request.limit + 1)

    def count_statement(self) -> Select[Any]:
        return select(func.count()).select_from(self.model).where(*self.conditions)

    async def fetch_page(self, session: AsyncSession, request: PageRequest) -> Page[Any]:
        rows = list((await session.scalars(self.page_statement(request))).all())
        return Page.from_overfetch(rows, request)

    async def count(self, session: AsyncSession) -> int:
        return int((await session.scalar(self.count_statement())) or 0)


def escape_like(text: str) -> str:
    """Make user text literal inside LIKE/ILIKE patterns (default escape character '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_equals(column: Any, value: str) -> ColumnElement[bool]:
    """`column = value`, or FALSE for text PostgreSQL cannot hold (it could match nothing)."""
    return column == value if storable(value) else false()
