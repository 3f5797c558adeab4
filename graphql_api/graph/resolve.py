"""Resolver helpers shared by every relation field, so each field is one line of intent."""

from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from graphql_api.context import Info
from graphql_api.graph.connection import CountedConnection, build_connection
from graphql_api.graph.mapping import RowBacked
from graphql_api.kit.batch_queries import ByKey, ToMany, ToOne
from graphql_api.kit.listing import Listing
from graphql_api.kit.pagination import Page, PageRequest
from graphql_api.kit.text import parse_row_id
from graphql_api.security.deadline import checkpoint

NodeT = TypeVar("NodeT", bound=RowBacked)
ConnT = TypeVar("ConnT", bound=CountedConnection[Any])


async def load_one(
    info: Info, relation: ToOne, parent: object, node_type: type[NodeT]
) -> NodeT | None:
    await checkpoint()
    row = await info.context.loaders.one(relation, parent)
    return None if row is None else node_type.from_row(row)


async def load_by_key(info: Info, spec: ByKey, key: Any, node_type: type[NodeT]) -> NodeT | None:
    row = await info.context.loaders.lookup(spec).load(key)
    return None if row is None else node_type.from_row(row)


async def load_list(
    info: Info, relation: ToMany, parent_id: int, node_type: type[NodeT], limit: int
) -> list[NodeT]:
    await checkpoint()
    rows = await info.context.loaders.page(relation, parent_id, PageRequest(limit=limit))
    return [node_type.from_row(row) for row in rows[:limit]]


async def load_connection(
    info: Info,
    relation: ToMany,
    parent_id: int,
    *,
    first: int | None,
    after: str | None,
    connection: type[ConnT],
    node_type: type[RowBacked],
) -> ConnT:
    request = PageRequest.create(first, after, relation.ordering)
    loaders = info.context.loaders
    await checkpoint()
    rows = await loaders.page(relation, parent_id, request)

    async def count_total() -> int:
        return await loaders.count(relation, parent_id)

    page = Page.from_overfetch(rows, request)
    return build_connection(connection, node_type, page, relation.ordering, count_total)


async def required(pending: Awaitable[NodeT | None]) -> NodeT:
    """Await a to-one load that a foreign key guarantees; a miss is a bug, not user input."""
    node = await pending
    if node is None:
        raise LookupError("a row referenced by a foreign key was not found")
    return node


async def resolve_many(
    info: Info, spec: ByKey, node_ids: Sequence[str], node_type: type[NodeT]
) -> list[NodeT | None]:
    """Relay `node(id:)` support: ids that are not integers simply match nothing."""
    keys = [parse_row_id(node_id) for node_id in node_ids]
    rows = await info.context.loaders.lookup(spec).load_many([k for k in keys if k is not None])
    found = iter(rows)
    return [None if key is None else _node_or_none(next(found), node_type) for key in keys]


def _node_or_none(row: Any, node_type: type[NodeT]) -> NodeT | None:
    return None if row is None else node_type.from_row(row)


async def list_connection(
    info: Info,
    listing: Listing,
    *,
    first: int | None,
    after: str | None,
    connection: type[ConnT],
    node_type: type[RowBacked],
) -> ConnT:
    """A top-level connection: one statement for the page on the request's connection, and
    another only if counted."""
    request = PageRequest.create(first, after, listing.ordering)
    listing = listing.scoped(info.context.loaders.scope)
    db = info.context.db
    async with db.session() as session:
        page = await listing.fetch_page(session, request)

    async def count_total() -> int:
        async with db.session() as session:
            return await listing.count(session)

    return build_connection(connection, node_type, page, listing.ordering, count_total)
