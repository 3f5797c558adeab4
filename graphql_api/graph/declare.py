"""Declared field kinds: what each field of a row-backed GraphQL type is, said once.

A type declares each field with one helper below (`column`, `masked`, `to_one`,
`connection`, `capped_list`, `latest_of`, `computed`, `constant`, `same_row`, `attribute`).
The helper returns the strawberry field, with its resolver generated from the declaration,
and records the declaration (its *kind*) in the field's metadata. Everything that needs to
know what a field is reads the kind: the resolvers generated here, the compiled read path
(graphql_api/compiled) that turns a whole query into one SQL statement, and the query cost
limit (list caps, page sizes). graphql_api/graph/kinds.py collects them per GraphQL type,
and a test fails when any field of the read schema has no kind.
"""

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import strawberry
from strawberry.extensions.field_extension import FieldExtension, SyncExtensionResolver

from graphql_api.auth import policy
from graphql_api.context import Info
from graphql_api.graph.connection import After, First
from graphql_api.graph.mapping import row_type
from graphql_api.graph.resolve import load_connection, load_list, load_one
from graphql_api.kit.batch_queries import ToMany, ToOne
from graphql_api.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from graphql_api.models import Base, Role

KIND_KEY = "finance_api.kind"


class SqlContext(Protocol):
    """What a computed field's SQL form may ask of the compiler."""

    def alias(self, hint: str) -> str:
        """A table alias unused elsewhere in the statement."""
        ...

    def owned(self, model: type[Base], alias: str) -> str:
        """The condition restricting `alias` (a row of `model`) to what the viewer may read;
        `TRUE` when unrestricted. Mirrors the policy's row filter (graphql_api/auth/policy.py)."""
        ...

    def rows(self, relation: ToMany, parent: str, *, limit: int) -> str:
        """A parenthesised subquery of the first `limit` rows `relation` leads to from the
        row `parent`, in the relation's order and restricted like `owned`."""
        ...


# (alias of the parent row, compiler) -> SQL expression of the field's response value: text
# in the field's output format for scalars, `json` for objects and lists (keys = field names).
ComputedSql = Callable[[str, SqlContext], str]
ComputedPython = Callable[[Any, Info], Any]


@dataclass(frozen=True)
class Column:
    """The model attribute of the same name, printed in the field's GraphQL format."""


@dataclass(frozen=True)
class NodeId:
    """Relay's global id of the row's primary key (every NodeRow's `id`)."""


@dataclass(frozen=True)
class Masked:
    """A column shown through `python` (SQL: `sql`) to the listed roles, e.g. emails for
    AGENT keys."""

    roles: frozenset[Role]
    python: Callable[[Any], Any]
    sql: Callable[[str], str]


@dataclass(frozen=True)
class ToOneRelation:
    """The one row `relation` leads to; `nullable` when there may be none."""

    relation: ToOne
    nullable: bool


@dataclass(frozen=True)
class ConnectionOf:
    """A keyset-paginated page of the rows `relation` leads to (`first`, `after`)."""

    relation: ToMany
    default_page: int = DEFAULT_PAGE_SIZE
    max_page: int = MAX_PAGE_SIZE


@dataclass(frozen=True)
class CappedList:
    """The first `cap` rows `relation` leads to, in its order."""

    relation: ToMany
    cap: int


@dataclass(frozen=True)
class LatestOf:
    """The first row in `relation`'s order, or null. The resolver reads the same page of
    `window` rows as the capped list of the relation, so both share one loader batch."""

    relation: ToMany
    window: int


@dataclass(frozen=True)
class Computed:
    """A value derived from the row: `python` on the resolver path, `sql` when compiled.
    `cap` bounds list-valued results (for the query cost limit)."""

    python: ComputedPython
    sql: ComputedSql
    cap: int | None = None


@dataclass(frozen=True)
class Constant:
    """The same text for every row."""

    value: str


@dataclass(frozen=True)
class SameRow:
    """The parent's own row seen as another type (agentContext's `member`)."""


@dataclass(frozen=True)
class Attribute:
    """A plain value of a value object (a computed object's key, or a resolver-built one)."""


FieldKind = (
    Column
    | NodeId
    | Masked
    | ToOneRelation
    | ConnectionOf
    | CappedList
    | LatestOf
    | Computed
    | Constant
    | SameRow
    | Attribute
)


def _declared(kind: FieldKind, description: str, **options: Any) -> Any:
    return strawberry.field(description=description, metadata={KIND_KEY: kind}, **options)


def column(description: str) -> Any:
    return _declared(Column(), description)


def attribute(description: str) -> Any:
    return _declared(Attribute(), description)


class _MaskFor(FieldExtension):
    def __init__(self, kind: Masked) -> None:
        super().__init__()
        self.kind = kind

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        value = next_(source, info, **kwargs)
        viewer = info.context.viewer
        return self.kind.python(value) if viewer and viewer.role in self.kind.roles else value


def masked(
    description: str,
    *,
    model: type[Base],
    attribute: str,
    python: Callable[[Any], Any],
    sql: Callable[[str], str],
) -> Any:
    """`model.attribute`, shown through `python`/`sql` to the roles the authorization
    policy masks it for (graphql_api/auth/policy.py MASKED): the policy is the only list."""
    kind = Masked(policy.masked_for(model, attribute), python, sql)
    return _declared(kind, description, extensions=[_MaskFor(kind)])


def to_one(relation: ToOne, description: str, *, nullable: bool = False) -> Any:
    async def resolve(self: Any, info: Info) -> Any:
        found = await load_one(info, relation, self, row_type(relation.lookup.model))
        if found is None and not nullable:
            raise LookupError(f"{relation.name}: a row referenced by a foreign key is missing")
        return found

    return _declared(ToOneRelation(relation, nullable), description, resolver=resolve)


def connection(relation: ToMany, description: str) -> Any:
    kind = ConnectionOf(relation)

    # The declared default page is the argument's default, so the SDL shows it.
    async def resolve(
        self: Any, info: Info, first: First = kind.default_page, after: After = None
    ) -> Any:
        return await load_connection(
            info, relation, self.id, first=first, after=after,
            connection=cast(Any, info.return_type), node_type=row_type(relation.model),
        )  # fmt: skip

    return _declared(kind, description, resolver=resolve)


def capped_list(relation: ToMany, description: str, *, cap: int) -> Any:
    async def resolve(self: Any, info: Info) -> Any:
        return await load_list(info, relation, self.id, row_type(relation.model), cap)

    return _declared(CappedList(relation, cap), description, resolver=resolve)


def latest_of(relation: ToMany, description: str, *, window: int) -> Any:
    async def resolve(self: Any, info: Info) -> Any:
        found = await load_list(info, relation, self.id, row_type(relation.model), window)
        return found[0] if found else None

    return _declared(LatestOf(relation, window), description, resolver=resolve)


def computed(
    description: str, *, python: ComputedPython, sql: ComputedSql, cap: int | None = None
) -> Any:
    kind = Computed(python, sql, cap)
    if inspect.iscoroutinefunction(python):

        async def resolve_async(self: Any, info: Info) -> Any:
            result: Awaitable[Any] = python(self, info)
            return await result

        return _declared(kind, description, resolver=resolve_async)

    def resolve(self: Any, info: Info) -> Any:
        return python(self, info)

    return _declared(kind, description, resolver=resolve)


def constant(value: str, description: str) -> Any:
    def resolve(self: Any) -> Any:
        return value

    return _declared(Constant(value), description, resolver=resolve)


def same_row(description: str) -> Any:
    return _declared(SameRow(), description)
