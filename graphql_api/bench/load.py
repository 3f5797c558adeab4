"""The load driver, run in its own process: `python -m graphql_api.bench.load ...`.

C keep-alive connections (graphql_api/bench/rawhttp.py, loopback only) send one scenario's
pre-encoded requests for `--warmup` seconds (discarded), then for `--duration` seconds or
`--max-requests` requests, whichever ends first. It must stay cheap next to the server, so:
every response's status is read and its body scanned for `"errors"`; every Nth response
(`--check-every`) and every one that mentions errors is fully decoded. A non-200 status, a
lost connection, or a decoded document with `errors` or without `data` counts as an error.
The sampled documents also give `extensions.sqlStatements` and `extensions.plan`.
Prints one JSON object, with the driver's own CPU seconds over the load phases.
"""

import argparse
import asyncio
import json
import math
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from random import Random
from urllib.parse import urlsplit

import orjson

from graphql_api.bench.queries import SCENARIOS, Scenario
from graphql_api.bench.rawhttp import Connection, Response

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
HEADERS = {"content-type": "application/json", "accept": "application/json"}
# The API requires a key; the runner creates one and passes it down (the floor ignores it).
API_KEY_ENV = "FINANCE_BENCH_API_KEY"
if os.environ.get(API_KEY_ENV):
    HEADERS["authorization"] = f"Bearer {os.environ[API_KEY_ENV]}"
# After the run ends, how long the last responses may take before they count as failed.
STALL_SECONDS = 60.0
CONNECT_ATTEMPTS = 3
ERRORS_MARKER = b'"errors"'


@dataclass
class Tally:
    """One phase's counts. Requests are taken round-robin from `requests` from `offset` on."""

    requests: list[bytes]
    deadline: float
    max_requests: int
    check_every: int = 10
    offset: int = 0
    issued: int = 0
    errors: int = 0
    checked: int = 0
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    plans: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)

    def may_issue(self) -> bool:
        return self.issued < self.max_requests and time.perf_counter() < self.deadline

    def next_request(self) -> bytes | None:
        if not self.may_issue():
            return None
        request = self.requests[(self.offset + self.issued) % len(self.requests)]
        self.issued += 1
        return request

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message[:300])

    def record(self, latency: float, response: Response) -> None:
        self.latencies.append(latency)
        if response.status != 200:
            self.error(f"HTTP {response.status}: {response.body[:200].decode(errors='replace')}")
        elif (len(self.latencies) - 1) % self.check_every == 0 or ERRORS_MARKER in response.body:
            self._check(response.body)

    def _check(self, body: bytes) -> None:
        self.checked += 1
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            self.error(f"not JSON: {body[:200].decode(errors='replace')}")
            return
        if not isinstance(document, dict) or document.get("errors") or document.get("data") is None:
            self.error(f"GraphQL errors: {body[:250].decode(errors='replace')}")
            return
        extensions = document.get("extensions") or {}
        if isinstance(extensions.get("sqlStatements"), int):
            self.statements.append(extensions["sqlStatements"])
        self.plans[str(extensions.get("plan") or "")] += 1


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
                lambda: Connection(tally.next_request, tally.record, tally.error), host, port
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
    check_every: int = 10,
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m graphql_api.bench.load")
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/graphql")
    parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    parser.add_argument("--members-file", required=True, help="JSON list of member numbers")
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--warmup", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--max-requests", type=int, required=True)
    parser.add_argument("--check-every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with open(args.members_file, encoding="utf-8") as file:
        member_numbers: list[str] = json.load(file)
    bodies = scenario_bodies(SCENARIOS[args.scenario], member_numbers, args.seed)
    requests = encode_requests(args.url, bodies, HEADERS)
    result = asyncio.run(
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
