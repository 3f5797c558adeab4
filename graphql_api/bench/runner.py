"""`finance-api bench`: the API against a hand-written single-statement floor, same data.

1. database (DATABASE_URL or the embedded server), migrations, N synthetic members;
2. the API (uvicorn + graphql_api.runtime.app:create_app) and the floor, each in its own process;
3. parity: the same requests to both must return equal documents, or the bench stops;
4. per scenario and target, a separate load-driver process; then the table (and JSON).
"""

import asyncio
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped, unused-ignore]

from graphql_api.bench import dbcpu, drivers, processes, report, targets
from graphql_api.bench.load import API_KEY_ENV, HEADERS
from graphql_api.bench.parity import check_parity
from graphql_api.bench.queries import SCENARIOS
from graphql_api.bench.report import Row

TARGETS = ("api", "floor")
API_APP = "graphql_api.runtime.app:create_app"
FLOOR_APP = "graphql_api.bench.floor:create_app"


@dataclass(frozen=True)
class BenchOptions:
    members: int = 10_000
    duration: float = 15.0
    concurrency: int = 8
    warmup: float = 2.0
    port_base: int | None = None
    json_path: Path | None = None
    max_requests: int = 1_000_000
    parity_samples: int = 20
    seed: int = 42
    driver: str = "python"
    check_every: int = 100
    scenarios: tuple[str, ...] = tuple(SCENARIOS)


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def prepare_database(options: BenchOptions, database_url: str | None) -> tuple[str, list[str]]:
    """Resolve, migrate and seed the database; return its URL and the synthetic members."""
    from graphql_api.config import get_settings
    from graphql_api.runtime import migrate
    from graphql_api.runtime.cli import database_url as resolve_database_url
    from graphql_api.seeding.synthetic import seed_synthetic

    url = database_url or resolve_database_url(get_settings())
    migrate.upgrade(url)
    started = time.perf_counter()
    created = asyncio.run(seed_synthetic(url, options.members, progress=_log))
    _log(f"seeding: {created} members created in {time.perf_counter() - started:.1f}s")
    numbers = asyncio.run(_synthetic_member_numbers(url, options.members))
    if not numbers:
        raise SystemExit("bench needs at least one synthetic member (--members >= 1)")
    return url, numbers


async def _synthetic_member_numbers(url: str, members: int) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT member_number FROM members WHERE member_number ~ '^S-[0-9]{7}$'"
            " AND substr(member_number, 3)::int <= $1 ORDER BY member_number",
            members,
        )
    finally:
        await connection.close()
    return [str(row["member_number"]) for row in rows]


def _ports(options: BenchOptions) -> tuple[int, int]:
    if options.port_base is not None:
        return options.port_base, options.port_base + 1
    return processes.free_port(), processes.free_port()


def _drive(server: processes.Server, spec: drivers.LoadSpec, driver: str, db_url: str) -> Row:
    serving = server.serving_process()
    processes.reset_peak_rss(serving)
    db_before = dbcpu.snapshot(db_url, server.name)
    cpu_before = processes.cpu_seconds(serving)
    result = drivers.run_driver(driver, spec)
    cpu = processes.cpu_seconds(serving) - cpu_before
    db_cpu = dbcpu.used(db_before, dbcpu.snapshot(db_url, server.name))
    # Both CPU figures cover warm-up and measured phases, so divide by all requests sent.
    handled = result.pop("warmup_requests") + result["requests"]
    driver_cpu = result.pop("driver_cpu_seconds")
    if server.name == "floor":
        # One statement per request by construction; the floor does not count them.
        result["sql_statements_per_request"] = 1.0
    return Row(
        scenario=spec.scenario,
        target=server.name,
        path=served_path(server.name, result["plans"]),
        peak_rss_mb=processes.peak_rss_mb(serving),
        server_cpu_ms_per_request=round(cpu / handled * 1000, 3) if handled else None,
        driver_cpu_ms_per_request=round(driver_cpu / handled * 1000, 3) if handled else None,
        db_cpu_ms_per_request=(
            round(db_cpu / handled * 1000, 3) if handled and db_cpu is not None else None
        ),
        driver=driver,
        **result,
    )


def served_path(target: str, plans: dict[str, int]) -> str:
    """ "compiled" or "resolvers" from the sampled extensions.plan (absent: "resolvers")."""
    if target == "floor":
        return "floor"
    counts: dict[str, int] = {}
    for plan, count in plans.items():
        counts[plan or "resolvers"] = counts.get(plan or "resolvers", 0) + count
    if len(counts) <= 1:
        return next(iter(counts), "resolvers")
    return " / ".join(f"{plan} x{count}" for plan, count in sorted(counts.items()))


def bench_key(url: str, role: str = "ADMIN", label: str = "bench") -> str:
    """A new API key of `role` on the database at `url` (the plain token)."""
    from graphql_api.auth.service import create_key
    from graphql_api.config import get_settings
    from graphql_api.db import create_engine, create_sessionmaker
    from graphql_api.models import Role

    async def create() -> str:
        engine = create_engine(get_settings(), url, pool_size=1, max_overflow=0)
        try:
            async with create_sessionmaker(engine).begin() as session:
                _, token = await create_key(
                    session, role=Role(role), member_number=None, label=label
                )
                return token
        finally:
            await engine.dispose()

    return asyncio.run(create())


def run_bench(options: BenchOptions, database_url: str | None = None) -> list[Row]:
    """Run everything; raises ParityError when the targets disagree."""
    from graphql_api.agent.types import TOOLING_HINT

    url, numbers = prepare_database(options, database_url)
    scenarios = [SCENARIOS[name] for name in options.scenarios]
    api_port, floor_port = _ports(options)
    with tempfile.TemporaryDirectory(prefix="finance-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        members_file = workdir / "members.json"
        members_file.write_text(json.dumps(numbers))
        # One key for all traffic, and no rate limit: the bench measures the API, not the
        # limiter (every request comes from one key on one loopback address).
        os.environ[API_KEY_ENV] = bench_key(url)
        HEADERS["authorization"] = f"Bearer {os.environ[API_KEY_ENV]}"
        api_env = {
            "DATABASE_URL": url,
            "FINANCE_API_EXPOSE_QUERY_STATS": "true",
            "FINANCE_API_RATE_LIMIT_ENABLED": "false",
        }
        floor_env = {"DATABASE_URL": url, "FINANCE_BENCH_TOOLING_HINT": TOOLING_HINT}
        servers = {
            "api": stack.enter_context(
                processes.running_server("api", API_APP, api_port, api_env, workdir)
            ),
            "floor": stack.enter_context(
                processes.running_server("floor", FLOOR_APP, floor_port, floor_env, workdir)
            ),
        }
        processes.wait_healthy(list(servers.values()))
        _log(f"api on :{api_port} (pid {servers['api'].process.pid}),"
             f" floor on :{floor_port} (pid {servers['floor'].process.pid})")  # fmt: skip
        parity = check_parity(
            servers["api"].url, servers["floor"].url, scenarios, numbers,
            samples=options.parity_samples, seed=options.seed,
        )  # fmt: skip
        _log(f"parity OK: {parity.summary()}")
        rows: list[Row] = []
        for scenario in scenarios:
            for target in TARGETS:
                _log(f"{scenario.name} -> {target}: {options.warmup:g}s warmup,"
                     f" {options.duration:g}s at concurrency {options.concurrency}")  # fmt: skip
                spec = drivers.LoadSpec(
                    servers[target].url, scenario.name, members_file, workdir,
                    options.duration, options.warmup, options.concurrency,
                    options.max_requests, options.check_every, options.seed,
                )  # fmt: skip
                rows.append(_drive(servers[target], spec, options.driver, url))
    meta: dict[str, Any] = {
        "options": {**asdict(options), "json_path": str(options.json_path or "")},
        "members_available": len(numbers),
        "parity": {"passed": True, **asdict(parity)},
        "cpu_count": os.cpu_count(),
    }
    checks = targets.evaluate(rows)
    meta["targets"] = [asdict(check) for check in checks]
    lines = [check.line() for check in checks]
    print(report.render(rows, _notes(options), lines), flush=True)
    if options.json_path is not None:
        report.write_json(options.json_path, rows, meta)
        _log(f"results written to {options.json_path}")
    return rows


def _notes(options: BenchOptions) -> list[str]:
    driver = (
        "the Python driver (raw-socket HTTP/1.1 keep-alive, graphql_api/bench/load.py)"
        if options.driver == "python"
        else "wrk (one thread, Lua script graphql_api/bench/wrk.py)"
    )
    return [
        "",
        f"Concurrency {options.concurrency}, {options.duration:g}s per run after"
        f" {options.warmup:g}s warmup, load from {driver}; driver, servers and PostgreSQL share"
        f" {os.cpu_count()} CPUs. Every response's status and framing is checked and its body's"
        " head and tail scanned for GraphQL errors; every"
        f" {options.check_every}th (fewer for long bodies) and one every 5 s are decoded."
        " SQL/req: extensions.sqlStatements of the decoded responses (API), 1 by construction"
        " (floor). path: extensions.plan of the decoded responses (absent: resolvers)."
        " Peak RSS: VmHWM of the serving process, reset before each run. CPU ms/req: the"
        " serving process's (server), its PostgreSQL backends' (db, found by application_name"
        " when PostgreSQL runs on this machine) and the driver's own CPU over warm-up and"
        " run, divided by the requests sent.",
    ]
