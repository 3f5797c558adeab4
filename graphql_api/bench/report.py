"""The bench's results: one row per scenario and target, as markdown and as JSON."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    scenario: str
    target: str  # "api" or "floor"
    path: str  # which path served it: "compiled", "resolvers" (extensions.plan) or "floor"
    requests: int
    errors: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    sql_statements_per_request: float | None
    peak_rss_mb: float
    server_cpu_ms_per_request: float | None
    driver_cpu_ms_per_request: float | None
    db_cpu_ms_per_request: float | None  # the target's PostgreSQL backends, when local
    driver: str  # "python" (graphql_api/bench/load.py) or "wrk"
    plans: dict[str, int]  # extensions.plan of the decoded responses ("" when absent)
    checked_responses: int  # responses the driver decoded (a sample, plus any with errors)
    error_samples: list[str]


_COLUMNS = (
    ("scenario", "scenario"),
    ("target", "target"),
    ("path", "path"),
    ("req/s", "requests_per_second"),
    ("p50 ms", "p50_ms"),
    ("p95 ms", "p95_ms"),
    ("p99 ms", "p99_ms"),
    ("SQL/req", "sql_statements_per_request"),
    ("peak RSS MB", "peak_rss_mb"),
    ("server CPU ms/req", "server_cpu_ms_per_request"),
    ("db CPU ms/req", "db_cpu_ms_per_request"),
    ("driver CPU ms/req", "driver_cpu_ms_per_request"),
    ("requests", "requests"),
    ("errors", "errors"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if value < 1:
            return f"{value:.3f}"  # CPU per request is often a fraction of a millisecond
        return f"{value:,.2f}" if value < 100 else f"{value:,.1f}"
    return str(value)


def markdown_table(rows: list[Row]) -> str:
    header = "| " + " | ".join(title for title, _ in _COLUMNS) + " |"
    rule = "|" + "|".join("---" if i < 3 else "---:" for i in range(len(_COLUMNS))) + "|"
    body = [
        "| " + " | ".join(_cell(getattr(row, attr)) for _, attr in _COLUMNS) + " |" for row in rows
    ]
    return "\n".join([header, rule, *body])


def comparisons(rows: list[Row]) -> list[str]:
    """Per scenario: how far the API is from the floor."""
    lines: list[str] = []
    by_key = {(row.scenario, row.target): row for row in rows}
    for scenario in dict.fromkeys(row.scenario for row in rows):
        api, floor = by_key.get((scenario, "api")), by_key.get((scenario, "floor"))
        if api is None or floor is None or not api.requests_per_second or not api.p50_ms:
            continue
        throughput = floor.requests_per_second / api.requests_per_second
        latency = api.p50_ms / floor.p50_ms if floor.p50_ms else float("nan")
        lines.append(
            f"- {scenario}: the floor serves {throughput:.1f}x the API's requests/s;"
            f" API p50 is {latency:.1f}x the floor's"
        )
    return lines


def render(rows: list[Row], notes: list[str], target_lines: list[str]) -> str:
    goals = ["", "Against the goals:", *target_lines] if target_lines else []
    return "\n".join([markdown_table(rows), "", *comparisons(rows), *goals, *notes])


def write_json(path: Path, rows: list[Row], meta: dict[str, Any]) -> None:
    document = {**meta, "results": [asdict(row) for row in rows]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
