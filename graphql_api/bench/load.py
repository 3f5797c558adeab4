"""The load driver, run in its own process: `python -m graphql_api.bench.load ...`.

C keep-alive connections (connection.py, rawhttp.py; loopback only) send one scenario's
pre-encoded requests for `--warmup` seconds (discarded), then for `--duration` seconds or
`--max-requests` requests, whichever ends first. It must cost far less CPU than the server,
so responses are checked cheaply and a sample decoded in full (tally.py); the samples also
give `extensions.sqlStatements` and `extensions.plan`. Runs on uvloop when installed.
Prints one JSON object, with the driver's own CPU seconds over the load phases.
"""

import argparse
import asyncio
import json
import math
import os
import sys
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass
from random import Random
from typing import Any
from urllib.parse import urlsplit

import orjson

from graphql_api.bench.connection import Connection
from graphql_api.bench.queries import SCENARIOS, Scenario
from graphql_api.bench.tally import Tally

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
HEADERS = {"content-type": "application/json", "accept": "application/json"}
# The API requires a key; the runner creates one and passes it down (the floor ignores it).
API_KEY_ENV = "FINANCE_BENCH_API_KEY"
if os.environ.get(API_KEY_ENV):
    HEADERS["authorization"] = f"Bearer {os.environ[API_KEY_ENV]}"
# After the run ends, how long the last responses may take before they count as failed.
STALL_SECONDS = 60.0
CONNECT_ATTEMPTS = 3


@dataclass(frozen=True)
class LoadResult:
    warmup_requests: int
    requests: int
    errors: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    sql_statements_per_request: float | None
    plans: dict[str, int]  # extensions.plan of the decoded responses ("" when absent)
    checked_responses: int
    driver_cpu_seconds: float  # this process, warm-up and measured phases
    error_samples: list[str]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def scenario_bodies(scenario: Scenario, member_numbers: list[str], seed: int) -> list[bytes]:
    """The request bodies, one per member in a seeded random order (or the one fixed body)."""
    if not scenario.per_member:
        return [orjson.dumps(scenario.body())]
    numbers = list(member_numbers)
    Random(seed).shuffle(numbers)
    return [orjson.dumps(scenario.body(number)) for number in numbers]


def encode_requests(url: str, bodies: list[bytes], headers: dict[str, str]) -> list[bytes]:
    """Complete HTTP/1.1 POST requests, encoded once so sending one costs a single write."""
    parts = urlsplit(url)
    head = f"POST {parts.path or '/'} HTTP/1.1\r\nhost: {parts.netloc}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return [f"{head}content-length: {len(body)}\r\n\r\n".encode() + body for body in bodies]


async def _keep_connected(host: str, port: int, tally: Tally, live: set[Connection]) -> None:
    """One connection slot: reconnect when the server closes, until the phase ends."""
    loop = asyncio.get_running_loop()
    failures = 0
    while tally.may_issue() and failures < CONNECT_ATTEMPTS:
        try:
            _, connection = await loop.create_connection(
                lambda: Connection(tally.next_request, tally.record, tally.error, tally.wants_body),
                host,
                port,
            )
        except OSError as error:
            failures += 1
            tally.error(f"connect: {error}")
            await asyncio.sleep(0.1)
            continue
        failures = 0
        live.add(connection)
        await connection.closed
        live.discard(connection)


async def run_phase(url: str, tally: Tally, concurrency: int, seconds: float) -> float:
    """Drive C connections until the tally's deadline or budget; return elapsed seconds."""
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK_HOSTS:
        raise SystemExit(f"the load driver only targets loopback, not {parts.hostname!r}")
    live: set[Connection] = set()
    started = time.perf_counter()
    slots = asyncio.gather(
        *(
            _keep_connected(parts.hostname, parts.port or 80, tally, live)
            for _ in range(concurrency)
        )
    )
    try:
        await asyncio.wait_for(slots, timeout=seconds + STALL_SECONDS)
    except TimeoutError:
        for connection in list(live):
            connection.abort(f"no response within {STALL_SECONDS:g}s after the run ended")
    return time.perf_counter() - started


async def run_load(
    url: str,
    requests: list[bytes],
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    max_requests: int,
    check_every: int = 100,
) -> LoadResult:
    cpu_started = time.process_time()
    warmed = 0
    if warmup > 0:
        warm = Tally(requests, time.perf_counter() + warmup, max_requests, check_every)
        await run_phase(url, warm, concurrency, warmup)
        warmed = warm.issued
    tally = Tally(
        requests, time.perf_counter() + duration, max_requests, check_every, offset=warmed
    )
    elapsed = await run_phase(url, tally, concurrency, duration)
    return _result(tally, warmed, elapsed, time.process_time() - cpu_started)


def _result(tally: Tally, warmed: int, elapsed: float, cpu_seconds: float) -> LoadResult:
    latencies = sorted(tally.latencies)
    completed = len(latencies)
    statements = tally.statements
    return LoadResult(
        warmup_requests=warmed,
        requests=completed,
        errors=tally.errors,
        seconds=round(elapsed, 3),
        requests_per_second=round(completed / elapsed, 1) if elapsed > 0 else 0.0,
        p50_ms=round(percentile(latencies, 0.50) * 1000, 2),
        p95_ms=round(percentile(latencies, 0.95) * 1000, 2),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 2),
        mean_ms=round(sum(latencies) / completed * 1000, 2) if completed else 0.0,
        sql_statements_per_request=(
            round(sum(statements) / len(statements), 2) if statements else None
        ),
        plans=dict(tally.plans),
        checked_responses=tally.checked,
        driver_cpu_seconds=round(cpu_seconds, 3),
        error_samples=tally.error_samples,
    )


def _run_in_event_loop(main: Coroutine[Any, Any, LoadResult]) -> LoadResult:
    """uvloop (installed with uvicorn[standard]) halves the driver's CPU per request."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m graphql_api.bench.load")
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/graphql")
    parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    parser.add_argument("--members-file", required=True, help="JSON list of member numbers")
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--warmup", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--max-requests", type=int, required=True)
    parser.add_argument("--check-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with open(args.members_file, encoding="utf-8") as file:
        member_numbers: list[str] = json.load(file)
    bodies = scenario_bodies(SCENARIOS[args.scenario], member_numbers, args.seed)
    requests = encode_requests(args.url, bodies, HEADERS)
    result = _run_in_event_loop(
        run_load(
            args.url,
            requests,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            max_requests=args.max_requests,
            check_every=max(1, args.check_every),
        )
    )
    sys.stdout.write(json.dumps(asdict(result)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
