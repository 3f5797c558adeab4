"""Idle-subscription memory figures for `python -m graphql_api.bench.realtime`, and the
graphql-transport-ws client steps the benchmark shares.

Two shapes, each measured as the RSS of the ONE worker process that holds them, before and
after, with every subscription registered and idle (its filter matches nothing):

- multiplexed: `total` subscriptions over `total / 100` connections (100 each);
- one per connection: `total` connections with one subscription each, as browsers and
  dashboards usually connect (a WebSocket, its buffers and a context per subscription).
"""

import asyncio
import json
import resource
from typing import Any

import psutil
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
IDLE = 'subscription { auditEvents(filter: {action: "bench.never"}) { id } }'
PER_CONNECTION = 100
# Connections opened at once: enough to be quick, few enough not to flood the accept queue.
OPENING_CONCURRENCY = 50
# Time for the last subscriptions to register with the hub after their `subscribe` is sent.
SETTLE_SECONDS = 3.0
WARM_UP_CONNECTIONS = 20


async def open_subscriber(base_url: str, key: str) -> tuple[ClientConnection, int]:
    """A connection past `connection_init`, and the pid of the worker that acknowledged it."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    connection = await websockets.connect(url, subprotocols=[PROTOCOL], max_size=2**20)
    await connection.send(json.dumps({"type": "connection_init", "payload": {"apiKey": key}}))
    ack = json.loads(await connection.recv())
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"not acknowledged: {ack}")
    return connection, int(ack["payload"]["pid"])


async def subscribe(connection: ClientConnection, op_id: str, query: str, **variables: Any) -> None:
    message = {
        "id": op_id,
        "type": "subscribe",
        "payload": {"query": query, "variables": variables},
    }
    await connection.send(json.dumps(message))


def raise_open_file_limit() -> tuple[int, int]:
    """The soft RLIMIT_NOFILE up to the hard one (inherited by the server started after),
    so neither side runs out of descriptors at 1,000 connections. Returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def _growth(before: float, after: float, count: int, unit: str) -> str:
    return (
        f"RSS {before:.1f} -> {after:.1f} MB (+{after - before:.1f} MB,"
        f" {1024 * (after - before) / count:.1f} kB per {unit})"
    )


async def idle_multiplexed(base_url: str, key: str, server: psutil.Process, total: int) -> None:
    """`total` idle subscriptions, 100 per connection, on one worker of `server`'s."""
    wanted = total // PER_CONNECTION
    workers = server.children(recursive=True)
    kept: list[ClientConnection] = []
    others: list[ClientConnection] = []
    target: int | None = None
    rss_before = 0.0
    while len(kept) < wanted:
        connection, pid = await open_subscriber(base_url, key)
        if target is None:
            target = pid
            rss_before = rss_mb(pid)
        (kept if pid == target else others).append(connection)
    for connection in others:
        await connection.close()
    for n, connection in enumerate(kept):
        for index in range(PER_CONNECTION):
            await subscribe(connection, f"i{n}-{index}", IDLE)
    await asyncio.sleep(SETTLE_SECONDS)
    assert target is not None
    print(
        f"{len(kept) * PER_CONNECTION} idle subscriptions ({len(kept)} connections x"
        f" {PER_CONNECTION}) on worker {target} of {[w.pid for w in workers]}:"
        f" {_growth(rss_before, rss_mb(target), total, 'subscription')}"
    )
    for connection in kept:
        await connection.close()


async def _open_idle(base_url: str, key: str, gate: asyncio.Semaphore) -> ClientConnection:
    async with gate:
        connection, _ = await open_subscriber(base_url, key)
        await subscribe(connection, "idle", IDLE)
        return connection


async def idle_one_per_connection(
    base_url: str, key: str, worker: psutil.Process, total: int
) -> None:
    """`total` connections with one idle subscription each, on the single worker `worker`."""
    gate = asyncio.Semaphore(OPENING_CONCURRENCY)
    warm = await asyncio.gather(
        *(_open_idle(base_url, key, gate) for _ in range(WARM_UP_CONNECTIONS))
    )
    await asyncio.sleep(1.0)
    for connection in warm:  # code paths, caches and pools touched once before measuring
        await connection.close()
    await asyncio.sleep(1.0)
    client = psutil.Process()
    before, fds_before, client_before = rss_mb(worker.pid), worker.num_fds(), rss_mb(client.pid)
    opened = await asyncio.gather(*(_open_idle(base_url, key, gate) for _ in range(total)))
    await asyncio.sleep(SETTLE_SECONDS)
    after, fds_after = rss_mb(worker.pid), worker.num_fds()
    print(
        f"{len(opened)} connections x 1 idle subscription on worker {worker.pid}"
        f" (--workers 1): {_growth(before, after, total, 'connection')};"
        f" open fds {fds_before} -> {fds_after}"
    )
    print(f"  client (one asyncio process): RSS {client_before:.1f} -> {rss_mb(client.pid):.1f} MB")
    for connection in opened:
        await connection.close()
