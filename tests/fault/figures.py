"""The fault figures, printed: `python -m tests.fault.figures` (from the repository root).

Everything runs on its own throwaway embedded PostgreSQL (demo data, 158 feedback rows on
one prediction) with the API in its own processes, as `finance-api serve` runs it:

- the amplification loop at nesting 2 to 6 (status, time, server peak RSS);
- 300 concurrent nested `members(first: 10)` requests on the default pool;
- PostgreSQL stopped for 6 s under mixed load (codes seen, seconds to recover, writes lost).
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

from tests.fault.amplification import send_loop, simple_queries_beside_loops
from tests.fault.api_process import api_process, high_water_mark_bytes
from tests.fault.outage import REQUEST_DEADLINE_SECONDS, run_postgres_outage
from tests.fault.postgres_control import RestartablePostgres
from tests.fault.stack import DemoDatabase, demo_database
from tests.fault.storm import run_storm
from tests.feedback_rows import add_feedback


def _say(*lines: str) -> None:
    for line in lines:
        print(line, flush=True)


def amplification(database: DemoDatabase, logs: Path) -> None:
    _say("", "== amplification loop (max_query_depth 20, cost limit on) ==")
    with api_process(
        database.app_url, logs / "loop.log", max_query_depth="20", rate_limit_enabled="false"
    ) as api:
        for nesting in (2, 3, 4, 5, 6):
            _say(send_loop(api, database.admin_token, nesting).line())
        _say(simple_queries_beside_loops(api, database.admin_token, copies=4).line())
        _say(f"server peak RSS since start (VmHWM): {high_water_mark_bytes(api.pid) >> 20} MB")


def storm(database: DemoDatabase, logs: Path, requests: int) -> None:
    _say("", f"== pool storm (default pool, {requests} concurrent requests) ==")
    with api_process(database.app_url, logs / "storm.log", rate_limit_enabled="false") as api:
        _say(*run_storm(api.base_url, database.admin_token, requests).lines())


def outage(
    postgres: RestartablePostgres, database: DemoDatabase, logs: Path, seconds: float
) -> None:
    _say("", f"== PostgreSQL stopped for {seconds:g} s under load ==")
    with api_process(
        database.app_url,
        logs / "outage.log",
        request_timeout_seconds=str(REQUEST_DEADLINE_SECONDS),
        rate_limit_enabled="false",
    ) as api:
        figures = run_postgres_outage(postgres, api, database, outage_seconds=seconds)
        _say(*figures.lines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="pool storm size")
    parser.add_argument("--outage", type=float, default=6.0, help="seconds PostgreSQL is down")
    args = parser.parse_args(argv)
    _say(
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
        f"{os.cpu_count()} CPUs"
    )
    postgres = RestartablePostgres()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="fault-figures-") as logs,
            demo_database(postgres.url()) as database,
        ):
            add_feedback(database.url, 158)
            amplification(database, Path(logs))
            storm(database, Path(logs), args.requests)
            outage(postgres, database, Path(logs), args.outage)
    finally:
        postgres.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
