"""Per-request dataloaders (aiodataloader), one per declared relation and lookup.

Every batch reads through the request's one connection (graphql_api/request_db.py), which
serialises them: graphql-core resolves sibling fields concurrently, and one connection or
AsyncSession must never serve concurrent tasks. A batch takes its keys when it gets the
connection (graph/serial_loader.py), so late loads join it instead of making another.
Batching uses `= ANY($1)` arrays so asyncpg sees one statement text whatever the batch size.
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from aiodataloader import DataLoader

from graphql_api import relation_specs
from graphql_api.auth.policy import RowScope, read_scope
from graphql_api.auth.service import Viewer
from graphql_api.graph.serial_loader import BatchWork, SerialDataLoader
from graphql_api.kit.batch_queries import ByKey, ToMany, ToOne
from graphql_api.kit.pagination import PageRequest
from graphql_api.request_db import RequestDatabase

PageKey = tuple[int, PageRequest]


class Loaders:
    """All loaders of one request. Construct inside the running event loop (aiodataloader
    binds to the loop in __init__), i.e. in the async context getter."""

    def __init__(
        self, db: RequestDatabase, _old_member_scope: object = None, *, viewer: Viewer | None = None
    ) -> None:
        """Every batch reads what the authorization policy lets `viewer` read (its member's
        rows only for a MEMBER key, no audit rows for an AGENT key); no viewer reads nothing.

        The second positional argument is ignored: it was `member_scope`, and a member id is
        not a viewer, so it grants nothing. It is accepted only until its last callers
        (mcp_server/execute.py, realtime/context.py) pass `viewer=`; Context rebuilds their
        loaders from its viewer meanwhile."""
        del _old_member_scope
        self._db = db
        # Every batch query is restricted in SQL to what this request may see.
        self.scope: RowScope = read_scope(viewer)
        lookups = [*relation_specs.ALL_LOOKUPS, *(r.lookup for r in relation_specs.ALL_TO_ONE)]
        self._lookups = {spec.key: self._lookup_loader(spec) for spec in lookups}
        self._pages = {rel.key: self._page_loader(rel) for rel in relation_specs.ALL_TO_MANY}
        self._counts = {rel.key: self._count_loader(rel) for rel in relation_specs.ALL_TO_MANY}

    def lookup(self, spec: ByKey) -> DataLoader[Any, Any]:
        return self._lookups[spec.key]

    async def one(self, relation: ToOne, parent: object) -> Any:
        key = getattr(parent, relation.parent_attr)
        if key is None:
            return None
        return await self._lookups[relation.lookup.key].load(key)

    async def page(self, relation: ToMany, parent_id: int, request: PageRequest) -> list[Any]:
        result: list[Any] = await self._pages[relation.key].load((parent_id, request))
        return result

    async def count(self, relation: ToMany, parent_id: int) -> int:
        result: int = await self._counts[relation.key].load(parent_id)
        return result

    def _batch(self, work: BatchWork) -> DataLoader[Any, Any]:
        return SerialDataLoader(self._db, work)

    def _lookup_loader(self, spec: ByKey) -> DataLoader[Any, Any]:
        return self._batch(lambda session, keys: spec.load(session, keys, self.scope))

    def _count_loader(self, relation: ToMany) -> DataLoader[Any, Any]:
        return self._batch(lambda session, ids: relation.load_counts(session, ids, self.scope))

    def _page_loader(self, relation: ToMany) -> DataLoader[Any, Any]:
        async def load_pages(session: Any, keys: Sequence[PageKey]) -> list[list[Any]]:
            # Siblings normally share one page request; group so each distinct request is
            # one statement for all of its parents.
            by_request: dict[PageRequest, list[int]] = defaultdict(list)
            for parent_id, request in keys:
                by_request[request].append(parent_id)
            pages: dict[PageKey, list[Any]] = {}
            for request, parent_ids in by_request.items():
                loaded = await relation.load_pages(session, parent_ids, request, self.scope)
                pages.update(
                    ((pid, request), rows) for pid, rows in zip(parent_ids, loaded, strict=False)
                )
            return [pages[key] for key in keys]

        return self._batch(load_pages)
