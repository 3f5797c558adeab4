"""The goals the bench prints its figures against (issue 9), and whether each run met them.

Goals for the API: a share of the floor's requests/s per scenario, p99 within 3x p50, one
SQL statement per request once the plan cache is warm, peak RSS per worker. One goal for the
bench itself: at the floor the driver must use under a quarter of the server's CPU, or the
driver, not the server, sets the pace.
"""

from dataclasses import dataclass

from graphql_api.bench.report import Row

API_SHARE_OF_FLOOR = {"agentContext": 0.55, "members100": 0.7}
P99_OVER_P50 = 3.0
SQL_PER_REQUEST = 1.0
PEAK_RSS_MB = 150.0
DRIVER_SHARE_OF_SERVER_CPU = 0.25


@dataclass(frozen=True)
class Check:
    name: str
    scenario: str
    target: str
    measured: str
    goal: str
    met: bool

    def line(self) -> str:
        verdict = "met" if self.met else "MISSED"
        return (
            f"- {verdict}: {self.scenario} {self.target}, {self.name}:"
            f" {self.measured} (goal {self.goal})"
        )


def evaluate(rows: list[Row]) -> list[Check]:
    by_key = {(row.scenario, row.target): row for row in rows}
    checks: list[Check] = []
    for (scenario, target), row in by_key.items():
        if target == "api":
            checks.extend(_api_checks(row, by_key.get((scenario, "floor"))))
        elif target == "floor" and row.server_cpu_ms_per_request:
            checks.append(_driver_check(row))
    return checks


def _api_checks(api: Row, floor: Row | None) -> list[Check]:
    def check(name: str, measured: str, goal: str, met: bool) -> Check:
        return Check(name, api.scenario, api.target, measured, goal, met)

    checks: list[Check] = []
    share = API_SHARE_OF_FLOOR.get(api.scenario)
    if share is not None and floor is not None and floor.requests_per_second:
        ratio = api.requests_per_second / floor.requests_per_second
        checks.append(check("req/s vs floor", f"{ratio:.2f}x", f">= {share}x", ratio >= share))
    spread = api.p99_ms / api.p50_ms if api.p50_ms else float("inf")
    checks.append(
        check("p99 vs p50", f"{spread:.1f}x", f"<= {P99_OVER_P50:g}x", spread <= P99_OVER_P50)
    )
    statements = api.sql_statements_per_request
    checks.append(
        check(
            "SQL/req",
            "n/a" if statements is None else f"{statements:g}",
            f"= {SQL_PER_REQUEST:g} (plan cache warm)",
            statements == SQL_PER_REQUEST,
        )
    )
    checks.append(
        check(
            "peak RSS",
            f"{api.peak_rss_mb:g} MB",
            f"<= {PEAK_RSS_MB:g} MB",
            api.peak_rss_mb <= PEAK_RSS_MB,
        )
    )
    return checks


def _driver_check(floor: Row) -> Check:
    driver = floor.driver_cpu_ms_per_request
    server = floor.server_cpu_ms_per_request or 0.0
    share = driver / server if driver is not None and server else float("inf")
    measured = f"{share:.2f}x of the server process"
    if driver is not None and floor.db_cpu_ms_per_request is not None:
        with_db = driver / (server + floor.db_cpu_ms_per_request)
        measured += f", {with_db:.2f}x of server + PostgreSQL"
    return Check(
        "driver CPU vs server CPU",
        floor.scenario,
        floor.target,
        measured,
        f"< {DRIVER_SHARE_OF_SERVER_CPU}x of the server process",
        share < DRIVER_SHARE_OF_SERVER_CPU,
    )
