"""A DataLoader whose batch waits for the request's connection before it takes its keys.

The request's reads share one connection, one use at a time (graphql_api/request_db.py). A
plain aiodataloader fixes a batch's keys one tick after the first load, then waits for the
connection: loads that arrive while it waits (e.g. `member` asked for by loan applications
whose page came back after the audit logs' page) would make a second batch, and the number of
statements would depend on timing. Here a batch takes every key queued up to the moment it
gets the connection, so each loader runs once per wave of resolvers, whatever the order the
earlier batches finished in.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiodataloader import DataLoader, Loader
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.request_db import RequestDatabase

BatchWork = Callable[[AsyncSession, Sequence[Any]], Awaitable[Sequence[Any]]]


class SerialDataLoader(DataLoader[Any, Any]):
    def __init__(self, db: RequestDatabase, work: BatchWork) -> None:
        super().__init__(self._not_called)
        self._db = db
        self._work = work
        # asyncio keeps only weak references to tasks: a batch task nobody holds can be
        # collected while it waits for the connection, and then never gives it back.
        self._batches: set[asyncio.Task[None]] = set()

    async def _not_called(self, keys: list[Any]) -> list[Any]:  # pragma: no cover
        raise AssertionError("SerialDataLoader dispatches its batches itself")

    def do_resolve_reject(self, key: Any, future: "asyncio.Future[Any]") -> None:
        self._queue.append(Loader(key=key, future=future))
        if len(self._queue) == 1:
            # One tick later, as aiodataloader does, so sibling loads join the batch.
            self.loop.call_soon(self._start_batch)

    def _start_batch(self) -> None:
        batch = self.loop.create_task(self._dispatch())
        self._batches.add(batch)
        batch.add_done_callback(self._batches.discard)

    async def _dispatch(self) -> None:
        queue: list[Loader] = []
        try:
            async with self._db.session() as session:
                queue, self._queue = self._queue, []
                values = list(await self._work(session, [item.key for item in queue]))
            if len(values) != len(queue):
                raise TypeError(f"a batch of {len(queue)} keys returned {len(values)} values")
        except BaseException as error:
            self._fail(queue or self._take_queue(), error)
            if not isinstance(error, Exception):
                raise  # cancelled: the request is over
            return
        for item, value in zip(queue, values, strict=True):
            if not item.future.done():
                item.future.set_result(value)

    def _take_queue(self) -> list[Loader]:
        queue, self._queue = self._queue, []
        return queue

    def _fail(self, queue: list[Loader], error: BaseException) -> None:
        """Reject every load of the batch (so none hangs) and forget them (a later load
        tries again), as aiodataloader does for a failed batch."""
        for item in queue:
            self.clear(item.key)
            if item.future.done():
                continue
            if isinstance(error, Exception):
                item.future.set_exception(error)
            else:
                item.future.cancel()
