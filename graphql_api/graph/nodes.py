"""Relay nodes backed by one model row, fetched by `node(id:)` through the id loader."""

from collections.abc import Iterable
from typing import ClassVar, Self

from strawberry import relay

from graphql_api.context import Info
from graphql_api.graph.mapping import RowBacked
from graphql_api.graph.resolve import resolve_many
from graphql_api.kit.batch_queries import ByKey


class NodeRow(relay.Node, RowBacked):
    """Subclasses set `__by_id__` to the lookup of their model's primary key."""

    __by_id__: ClassVar[ByKey]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await resolve_many(info, cls.__by_id__, list(node_ids), cls)
