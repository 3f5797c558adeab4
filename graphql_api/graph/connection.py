"""Relay connections with keyset cursors and a lazily counted `totalCount`."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry import relay

from graphql_api.kit.pagination import Ordering, Page, encode_cursor

NodeT = TypeVar("NodeT", bound=relay.Node)

First = Annotated[
    int | None,
    strawberry.argument(description="How many items to return: 1 to 100 (default 20)."),
]
After = Annotated[
    str | None,
    strawberry.argument(description="Return items after this cursor (an edge's `cursor`)."),
]


@strawberry.type(description="A page of items, with cursors to fetch the next page.")
class CountedConnection(relay.Connection[NodeT], Generic[NodeT]):
    count_total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the connection holds in all, across pages.")  # type: ignore[untyped-decorator]
    async def total_count(self) -> int:
        # Counting is a separate query, so it runs only when a client asks for it.
        return await self.count_total()


ConnT = TypeVar("ConnT", bound=CountedConnection[Any])


def build_connection(
    connection: type[ConnT],
    node_type: type[Any],
    page: Page[Any],
    ordering: Ordering,
    count_total: Callable[[], Awaitable[int]],
) -> ConnT:
    edges = [
        relay.Edge(cursor=encode_cursor(ordering.key_of(row)), node=node_type.from_row(row))
        for row in page.rows
    ]
    return connection(
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        edges=edges,
        count_total=count_total,
    )
