"""Smoke test of `finance-api bench`: the real thing end to end, with tiny settings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphql_api.bench.load import percentile
from graphql_api.bench.queries import SCENARIOS

TARGETS = {"api", "floor"}


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) == 0.0


@pytest.mark.timeout(120)
def test_bench_runs_end_to_end_with_parity(demo_loaded: str, tmp_path: Path) -> None:
    results_path = tmp_path / "bench.json"
    tiny = ["--members", "30", "--duration", "1", "--warmup", "0", "--concurrency", "2"]
    completed = subprocess.run(
        [sys.executable, "-m", "graphql_api.bench", *tiny, "--json", str(results_path)],
        env={**os.environ, "DATABASE_URL": demo_loaded},
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert "parity OK" in completed.stderr

    document = json.loads(results_path.read_text())
    assert document["parity"]["passed"] is True
    assert document["parity"]["requests"] >= 2
    results = document["results"]
    assert {(r["scenario"], r["target"]) for r in results} == {
        (scenario, target) for scenario in SCENARIOS for target in TARGETS
    }
    for row in results:
        assert row["requests"] > 0, row
        assert row["errors"] == 0, row
        assert row["requests_per_second"] > 0, row
        assert row["peak_rss_mb"] > 0, row
        assert row["sql_statements_per_request"] >= 1, row
    floor_rows = [r for r in results if r["target"] == "floor"]
    assert all(r["sql_statements_per_request"] == 1 for r in floor_rows)

    table = completed.stdout
    for scenario in SCENARIOS:
        assert f"| {scenario} | api |" in table
        assert f"| {scenario} | floor |" in table
