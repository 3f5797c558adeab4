"""The load driver, run in its own process: `python -m graphql_api.bench.load ...`.

C concurrent workers (httpx.AsyncClient, loopback only) post one scenario's bodies for
`--warmup` seconds (discarded), then for `--duration` seconds or `--max-requests` requests,
whichever ends first. Every response is parsed: a non-200 status, a transport error, or a
document with `errors` or without `data` counts as an error. Prints one JSON object.
"""

import argparse
import asyncio
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from random import Random
from urllib.parse import urlsplit

import httpx
import orjson

from graphql_api.bench.queries import SCENARIOS, BodySource

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
HEADERS = {"content-type": "application/json", "accept": "application/json"}
# The API requires a key; the runner creates one and passes it down (the floor ignores it).
API_KEY_ENV = "FINANCE_BENCH_API_KEY"
if os.environ.get(API_KEY_ENV):
    HEADERS["authorization"] = f"Bearer {os.environ[API_KEY_ENV]}"


@dataclass
class _Tally:
    deadline: float
    max_requests: int
    issued: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message[:300])


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
    error_samples: list[str]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _check(tally: _Tally, response: httpx.Response) -> None:
    if response.status_code != 200:
        tally.error(f"HTTP {response.status_code}: {response.text[:200]}")
        return
    try:
        document = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        tally.error(f"not JSON: {response.text[:200]}")
        return
    if document.get("errors") or document.get("data") is None:
        tally.error(f"GraphQL errors: {orjson.dumps(document.get('errors')).decode()}")
        return
    count = (document.get("extensions") or {}).get("sqlStatements")
    if isinstance(count, int):
        tally.statements.append(count)


async def _worker(client: httpx.AsyncClient, url: str, source: BodySource, tally: _Tally) -> None:
    while time.perf_counter() < tally.deadline and tally.issued < tally.max_requests:
        tally.issued += 1
        content = orjson.dumps(source.next())
        started = time.perf_counter()
        try:
            response = await client.post(url, content=content, headers=HEADERS)
        except httpx.HTTPError as error:
            tally.error(f"{type(error).__name__}: {error}")
            continue
        tally.latencies.append(time.perf_counter() - started)
        _check(tally, response)


async def _phase(
    client: httpx.AsyncClient,
    url: str,
    source: BodySource,
    concurrency: int,
    seconds: float,
    max_requests: int,
) -> tuple[_Tally, float]:
    started = time.perf_counter()
    tally = _Tally(deadline=started + seconds, max_requests=max_requests)
    await asyncio.gather(*(_worker(client, url, source, tally) for _ in range(concurrency)))
    return tally, time.perf_counter() - started


async def run_load(
    url: str,
    source: BodySource,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    max_requests: int,
) -> LoadResult:
    host = urlsplit(url).hostname
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"the load driver only targets loopback, not {host!r}")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30.0, trust_env=False) as client:
        warmed = 0
        if warmup > 0:
            warm, _ = await _phase(client, url, source, concurrency, warmup, max_requests)
            warmed = warm.issued
        tally, elapsed = await _phase(client, url, source, concurrency, duration, max_requests)
    latencies = sorted(tally.latencies)
    completed = len(latencies)
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
            round(sum(tally.statements) / len(tally.statements), 2) if tally.statements else None
        ),
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
    parser.add_argument("--seed", type=int, default=42)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with open(args.members_file, encoding="utf-8") as file:
        member_numbers: list[str] = json.load(file)
    source = SCENARIOS[args.scenario].bodies(member_numbers, Random(args.seed))
    result = asyncio.run(
        run_load(
            args.url,
            source,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            max_requests=args.max_requests,
        )
    )
    sys.stdout.write(json.dumps(asdict(result)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
