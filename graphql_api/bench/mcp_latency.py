"""MCP `get_member_context` against GraphQL `agentContext`: latency for the same member.

    python -m graphql_api.bench.mcp_latency [--database-url URL] [--member M-100001]
                                            [--requests 500] [--warmup 50]

One API server (uvicorn, one worker, as `finance-api bench` runs it) on the given database,
or DATABASE_URL, or the embedded PostgreSQL; the demo data is loaded if the database is
empty. One AGENT key. Then, sequentially and interleaved (GraphQL, MCP, GraphQL, ...) so
both see the same machine noise: GraphQL over httpx with keep-alive, and the MCP tool over
streamable HTTP through the SDK's own client in one session. Both answers are checked equal
first. Prints p50 / p95 / mean per transport and the MCP/GraphQL ratios (target: <= 1.5).
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import httpx2
import orjson
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from graphql_api.bench import processes
from graphql_api.bench.queries import AGENT_CONTEXT_QUERY
from graphql_api.bench.runner import bench_key

API_APP = "graphql_api.runtime.app:create_app"
TARGET_RATIO = 1.5


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url = _prepared_database(args.database_url)
    token = bench_key(url, "AGENT", "mcp-latency-bench")
    env = {
        "DATABASE_URL": url,
        "FINANCE_API_RATE_LIMIT_ENABLED": "false",
        "FINANCE_API_EXPOSE_QUERY_STATS": "false",
    }
    with tempfile.TemporaryDirectory(prefix="finance-mcp-bench-") as tmp:
        port = processes.free_port()
        with processes.running_server("api", API_APP, port, env, Path(tmp)) as server:
            processes.wait_healthy([server])
            base = f"http://{processes.HOST}:{port}"
            timings = asyncio.run(_measure(base, token, args.member, args.requests, args.warmup))
    _report(timings, args)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m graphql_api.bench.mcp_latency")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--member", default="M-100001", help="member number (demo data)")
    parser.add_argument("--requests", type=int, default=500, help="measured calls each")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured calls each")
    return parser


def _prepared_database(database_url: str | None) -> str:
    from graphql_api.config import get_settings
    from graphql_api.runtime import migrate
    from graphql_api.runtime.cli import database_url as resolve_database_url
    from graphql_api.seeding.demo import load_demo

    url = database_url or resolve_database_url(get_settings())
    migrate.upgrade(url)
    asyncio.run(load_demo(url))  # a no-op unless the database is empty
    return url


Call = Callable[[], Awaitable[dict[str, Any]]]


async def _measure(
    base: str, token: str, member: str, requests: int, warmup: int
) -> dict[str, list[float]]:
    headers = {"Authorization": f"Bearer {token}"}
    body = orjson.dumps(
        {
            "query": AGENT_CONTEXT_QUERY,
            "operationName": "AgentContext",
            "variables": {"memberNumber": member},
        }
    )
    graphql_headers = {**headers, "content-type": "application/json"}
    async with (
        httpx.AsyncClient(base_url=base, headers=graphql_headers, timeout=30) as graphql_http,
        httpx2.AsyncClient(headers=headers, timeout=30) as mcp_http,
        Client(streamable_http_client(f"{base}/mcp", http_client=mcp_http)) as mcp,
    ):

        async def graphql() -> dict[str, Any]:
            response = await graphql_http.post("/graphql", content=body)
            response.raise_for_status()
            context: dict[str, Any] = response.json()["data"]["agentContext"]
            return context

        async def tool() -> dict[str, Any]:
            result = await mcp.call_tool("get_member_context", {"memberNumber": member})
            if result.is_error or result.structured_content is None:
                raise RuntimeError(f"get_member_context failed: {result.structured_content}")
            context: dict[str, Any] = result.structured_content
            return context

        if await graphql() != await tool():
            raise SystemExit("MCP and GraphQL answers differ for the same member")
        print(f"mcp protocol version: {mcp.protocol_version}", file=sys.stderr)
        calls: dict[str, Call] = {"graphql agentContext": graphql, "mcp get_member_context": tool}
        timings: dict[str, list[float]] = {name: [] for name in calls}
        for round_number in range(warmup + requests):
            for name, call in calls.items():
                started = time.perf_counter()
                await call()
                if round_number >= warmup:
                    timings[name].append((time.perf_counter() - started) * 1000)
        return timings


def _report(timings: dict[str, list[float]], args: argparse.Namespace) -> None:
    summary = {name: _stats(values) for name, values in timings.items()}
    print(
        f"member {args.member}, {args.requests} sequential calls each after {args.warmup}"
        " warm-up, interleaved; AGENT key; one uvicorn worker"
    )
    print(f"{'transport':<24} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for name, (p50, p95, mean) in summary.items():
        print(f"{name:<24} {p50:>8.2f} {p95:>8.2f} {mean:>8.2f}")
    graphql, mcp = summary["graphql agentContext"], summary["mcp get_member_context"]
    ratios = [m / g for m, g in zip(mcp, graphql, strict=True)]
    print(f"ratio MCP/GraphQL: p50 {ratios[0]:.2f}x, p95 {ratios[1]:.2f}x, mean {ratios[2]:.2f}x")
    verdict = "met" if ratios[0] <= TARGET_RATIO else "NOT met"
    print(f"target (p50 within {TARGET_RATIO}x of GraphQL): {verdict}")


def _stats(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, statistics.fmean(ordered)


if __name__ == "__main__":
    raise SystemExit(main())
