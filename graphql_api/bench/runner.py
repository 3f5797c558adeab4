"""`finance-api bench`: the API against a hand-written single-statement floor, same data.

1. database (DATABASE_URL or the embedded server), migrations, N synthetic members;
2. the API (uvicorn + graphql_api.app:create_app) and the floor, each in its own process;
3. parity: the same requests to both must return equal documents, or the bench stops;
4. per scenario and target, a separate load-driver process; then the table (and JSON).
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped, unused-ignore]

from graphql_api.bench import processes, report
from graphql_api.bench.load import API_KEY_ENV, HEADERS
from graphql_api.bench.parity import check_parity
from graphql_api.bench.queries import SCENARIOS, Scenario
from graphql_api.bench.report import Row

TARGETS = ("api", "floor")
API_APP = "graphql_api.app:create_app"
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
    scenarios: tuple[str, ...] = tuple(SCENARIOS)


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def prepare_database(options: BenchOptions, database_url: str | None) -> tuple[str, list[str]]:
    """Resolve, migrate and seed the database; return its URL and the synthetic members."""
    from graphql_api import migrate
    from graphql_api.cli import database_url as resolve_database_url
    from graphql_api.config import get_settings
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


def _drive(
    server: processes.Server,
    scenario: Scenario,
    options: BenchOptions,
    members_file: Path,
) -> Row:
    serving = server.serving_process()
    processes.reset_peak_rss(serving)
    cpu_before = processes.cpu_seconds(serving)
    argv = [
        sys.executable, "-m", "graphql_api.bench.load",
        "--url", server.url, "--scenario", scenario.name,
        "--members-file", str(members_file),
        "--duration", str(options.duration), "--warmup", str(options.warmup),
        "--concurrency", str(options.concurrency),
        "--max-requests", str(options.max_requests), "--seed", str(options.seed),
    ]  # fmt: skip
    completed = subprocess_run(argv, timeout=options.duration + options.warmup + 120)
    result: dict[str, Any] = json.loads(completed)
    cpu = processes.cpu_seconds(serving) - cpu_before
    handled = result["warmup_requests"] + result["requests"]
    result.pop("warmup_requests")
    if server.name == "floor":
        # One statement per request by construction; the floor does not count them.
        result["sql_statements_per_request"] = 1.0
    return Row(
        scenario=scenario.name,
        target=server.name,
        peak_rss_mb=processes.peak_rss_mb(serving),
        server_cpu_ms_per_request=round(cpu / handled * 1000, 2) if handled else None,
        **result,
    )


def _bench_key(url: str) -> str:
    from graphql_api.auth.service import create_key
    from graphql_api.config import get_settings
    from graphql_api.db import create_engine, create_sessionmaker
    from graphql_api.models import Role

    async def create() -> str:
        engine = create_engine(get_settings(), url, pool_size=1, max_overflow=0)
        try:
            async with create_sessionmaker(engine).begin() as session:
                _, token = await create_key(
                    session, role=Role.ADMIN, member_number=None, label="bench"
                )
                return token
        finally:
            await engine.dispose()

    return asyncio.run(create())


def subprocess_run(argv: list[str], timeout: float) -> str:
    """Run the load driver in its own session; it is killed if the bench is interrupted."""
    completed = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, start_new_session=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"load driver failed ({completed.returncode}):\n{completed.stderr}")
    return completed.stdout


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
        os.environ[API_KEY_ENV] = _bench_key(url)
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
                rows.append(_drive(servers[target], scenario, options, members_file))
    meta = {
        "options": {**asdict(options), "json_path": str(options.json_path or "")},
        "members_available": len(numbers),
        "parity": {"passed": True, **asdict(parity)},
        "cpu_count": os.cpu_count(),
    }
    print(report.render(rows, _notes(options)), flush=True)
    if options.json_path is not None:
        report.write_json(options.json_path, rows, meta)
        _log(f"results written to {options.json_path}")
    return rows


def _notes(options: BenchOptions) -> list[str]:
    return [
        "",
        f"Concurrency {options.concurrency}, {options.duration:g}s per run after"
        f" {options.warmup:g}s warmup; load driver, servers and PostgreSQL share"
        f" {os.cpu_count()} CPUs. SQL/req: extensions.sqlStatements (API), 1 by construction"
        " (floor). Peak RSS: VmHWM of the serving process, reset before each run.",
    ]
