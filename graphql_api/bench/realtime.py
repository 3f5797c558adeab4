"""Subscription figures: `python -m graphql_api.bench.realtime --server-url postgresql://...`.

Creates a scratch database on the given PostgreSQL server (migrated, demo data, one ADMIN
key), serves it with `finance-api serve --workers 2`, and prints:

1. Delivery latency: 100 subscribers (one connection each, spread over both workers by the
   kernel) watch `auditEvents` for one member; N `applyForLoan` mutations are sent one after
   another (each once every subscriber has the previous one). For each (mutation, subscriber)
   pair: receipt time minus the mutation's HTTP response (the commit happened before it) and
   minus its send time.
2. Idle memory, the RSS before and after of the ONE worker holding them
   (bench/realtime_idle.py): 1,000 idle subscriptions multiplexed on 10 connections (100
   each), on one of the 2 workers; then 1,000 connections with one idle subscription each,
   on a fresh `--workers 1` server.

Figures, not assertions: nothing here fails on a slow machine. The client is one asyncio
process; its CPU time is printed so a saturated driver shows.
"""

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import asyncpg
import httpx
import psutil
from sqlalchemy.engine import make_url
from websockets.asyncio.client import ClientConnection

from graphql_api.bench.processes import free_port
from graphql_api.bench.realtime_idle import (
    idle_multiplexed,
    idle_one_per_connection,
    open_subscriber,
    raise_open_file_limit,
    subscribe,
)

# How long the second worker may take to start accepting; connections opened per probe.
START_SECONDS = 60
BATCH = 8
MEMBER = "M-100001"
APPLY = (
    "mutation ($member: String!) { applyForLoan(input: {memberNumber: $member,"
    ' amount: "5000.00", income: "90000.00", employmentYears: 6}) {'
    " loanApplication { id } userErrors { code } } }"
)
WATCH = (
    "subscription ($member: String!) { auditEvents(filter: {memberNumber: $member,"
    ' action: "loan.applied"}) { id entityId action createdAt } }'
)
SERVER_ENV = {
    # The driver is one client IP and one key: the per-key limits are not what is measured.
    "FINANCE_API_RATE_LIMIT_ENABLED": "false",
    "FINANCE_API_SUBSCRIPTIONS_PER_KEY": "2000",
    "FINANCE_API_ACCESS_LOG": "false",
}


# -- the scratch database and the served API ---------------------------------------------------


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    name = f"finance_realtime_bench_{os.getpid()}"
    url = make_url(server_url)
    admin_url = url.set(database="postgres").render_as_string(hide_password=False)
    asyncio.run(_execute(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def prepare(database_url: str) -> str:
    """Migrate, load the demo data, and return a new ADMIN key."""
    env = {**os.environ, "DATABASE_URL": database_url, "FINANCE_API_APP_DB_ROLE": ""}
    cli = [sys.executable, "-m", "graphql_api.runtime.cli"]
    subprocess.run([*cli, "seed", "--demo"], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [*cli, "keys", "create", "--role", "ADMIN", "--label", "realtime-bench"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return next(w for w in created.stdout.split() if w.startswith("fgk_"))


@contextmanager
def served(database_url: str, workers: int, **env: str) -> Iterator[tuple[str, psutil.Process]]:
    """`finance-api serve --workers N` on `database_url`: its base URL and its process."""
    port = free_port()
    command = [sys.executable, "-m", "graphql_api.runtime.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env={**os.environ, "DATABASE_URL": database_url, **SERVER_ENV, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, process)
        yield base_url, psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_healthy(base_url: str, process: "subprocess.Popen[bytes]") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the API exited at start-up")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the API did not become healthy")


# -- the client ----------------------------------------------------------------------------------


async def connections_on_both_workers(
    base_url: str, key: str
) -> list[tuple[ClientConnection, int]]:
    """A batch of connections whose acks name two worker pids. The kernel hands each accept
    to whichever worker waits first (and the second may still be starting), so batches are
    opened concurrently until one spans both."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        batch = await asyncio.gather(*(open_subscriber(base_url, key) for _ in range(BATCH)))
        if len({pid for _, pid in batch}) == 2:
            return list(batch)
        for connection, _ in batch:
            await connection.close()
        assert time.monotonic() < deadline, "every connection landed on the same worker"
        await asyncio.sleep(0.5)


def loan_id(global_id: str) -> str:
    return base64.b64decode(global_id).decode().split(":", 1)[1]


class Receipts:
    """When each subscriber received each loan's event, keyed by the loan id."""

    def __init__(self, subscribers: int) -> None:
        self.subscribers = subscribers
        self.times: dict[str, list[float]] = {}
        self.complete: dict[str, asyncio.Event] = {}

    def expect(self, entity_id: str) -> asyncio.Event:
        return self.complete.setdefault(entity_id, asyncio.Event())

    def record(self, entity_id: str, at: float) -> None:
        times = self.times.setdefault(entity_id, [])
        times.append(at)
        if len(times) == self.subscribers:
            self.expect(entity_id).set()


async def read_events(connection: ClientConnection, receipts: Receipts) -> None:
    async for raw in connection:
        at = time.perf_counter()
        message = json.loads(raw)
        if message.get("type") == "next":
            receipts.record(message["payload"]["data"]["auditEvents"]["entityId"], at)
        elif message.get("type") == "ping":
            await connection.send('{"type": "pong"}')


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return f"p50 {cut[49]:7.1f}  p95 {cut[94]:7.1f}  p99 {cut[98]:7.1f}  max {ordered[-1]:7.1f} ms"


async def latency(base_url: str, key: str, subscribers: int, mutations: int) -> None:
    for connection, _ in await connections_on_both_workers(base_url, key):
        await connection.close()  # both workers are up and accepting
    # Opened concurrently: the kernel hands each accept to whichever worker waits first.
    opened = await asyncio.gather(*(open_subscriber(base_url, key) for _ in range(subscribers)))
    pids = [pid for _, pid in opened]
    spread = {pid: pids.count(pid) for pid in sorted(set(pids))}
    print(f"{subscribers} subscribers, per worker pid: {spread}")
    receipts = Receipts(subscribers)
    for index, (connection, _) in enumerate(opened):
        await subscribe(connection, f"s{index}", WATCH, member=MEMBER)
    readers = [asyncio.create_task(read_events(c, receipts)) for c, _ in opened]
    await asyncio.sleep(1.0)  # every subscription registered with its worker's hub
    from_response: list[float] = []
    from_send: list[float] = []
    missing = 0
    client = psutil.Process()
    cpu_before = sum(client.cpu_times()[:2])
    started = time.perf_counter()
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
        for _ in range(mutations):
            sent = time.perf_counter()
            response = await http.post(
                f"{base_url}/graphql", json={"query": APPLY, "variables": {"member": MEMBER}}
            )
            answered = time.perf_counter()
            entity = loan_id(response.json()["data"]["applyForLoan"]["loanApplication"]["id"])
            with suppress(TimeoutError):
                await asyncio.wait_for(receipts.expect(entity).wait(), 5)
            times = receipts.times.get(entity, [])
            missing += subscribers - len(times)
            from_response += [(at - answered) * 1000 for at in times]
            from_send += [(at - sent) * 1000 for at in times]
    elapsed = time.perf_counter() - started
    cpu = sum(client.cpu_times()[:2]) - cpu_before
    print(f"{mutations} mutations x {subscribers} subscribers; deliveries missing: {missing}")
    print(f"  from the mutation's HTTP response: {percentiles(from_response)}")
    print(f"  from sending the mutation:         {percentiles(from_send)}")
    print(
        f"  client CPU {cpu:.2f} s over {elapsed:.2f} s wall ({100 * cpu / elapsed:.0f}% of a core)"
    )
    for reader in readers:
        reader.cancel()
    for connection, _ in opened:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--server-url",
        default=os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL"),
        help="a PostgreSQL server URL whose user may create databases (a scratch one is used)",
    )
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--mutations", type=int, default=50)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()
    if not args.server_url:
        parser.error("give --server-url (or set TEST_DATABASE_URL / DATABASE_URL)")
    soft, hard = raise_open_file_limit()
    with scratch_database(args.server_url) as database_url:
        key = prepare(database_url)
        with served(database_url, workers=2) as (base_url, server):
            print(f"finance-api serve --workers 2 at {base_url}, {os.cpu_count()} CPU(s)")
            asyncio.run(latency(base_url, key, args.subscribers, args.mutations))
            asyncio.run(idle_multiplexed(base_url, key, server, args.idle))
        with served(database_url, workers=1) as (base_url, worker):
            print(
                f"finance-api serve --workers 1 at {base_url}; one key, its per-worker cap raised"
                f" to {SERVER_ENV['FINANCE_API_SUBSCRIPTIONS_PER_KEY']}"
                f" (FINANCE_API_SUBSCRIPTIONS_PER_KEY); RLIMIT_NOFILE {soft}/{hard}"
                " (client and server)"
            )
            asyncio.run(idle_one_per_connection(base_url, key, worker, args.idle))


if __name__ == "__main__":
    main()
