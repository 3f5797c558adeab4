"""Running one load for one scenario and target, in a process of its own.

Two drivers give the same result fields (graphql_api/bench/load.py's LoadResult):
- "python" (default, needs nothing installed): `python -m graphql_api.bench.load`, which
  reports its own CPU seconds over the load phases (interpreter start-up excluded);
- "wrk" (when installed, e.g. `apt-get install wrk`): graphql_api/bench/wrk.py, whose CPU
  is read from the kernel's accounting of reaped children.
"""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DRIVERS = ("python", "wrk")


@dataclass(frozen=True)
class LoadSpec:
    url: str
    scenario: str
    members_file: Path
    workdir: Path
    duration: float
    warmup: float
    concurrency: int
    max_requests: int
    check_every: int
    seed: int


def run_driver(driver: str, spec: LoadSpec) -> dict[str, Any]:
    if driver == "wrk":
        from graphql_api.bench.wrk import run_wrk

        return run_wrk(spec)
    return _run_python(spec)


def _run_python(spec: LoadSpec) -> dict[str, Any]:
    import json

    argv = [
        sys.executable, "-m", "graphql_api.bench.load",
        "--url", spec.url, "--scenario", spec.scenario,
        "--members-file", str(spec.members_file),
        "--duration", str(spec.duration), "--warmup", str(spec.warmup),
        "--concurrency", str(spec.concurrency),
        "--max-requests", str(spec.max_requests),
        "--check-every", str(spec.check_every), "--seed", str(spec.seed),
    ]  # fmt: skip
    result: dict[str, Any] = json.loads(
        run_child(argv, timeout=spec.duration + spec.warmup + 180, name="load driver")
    )
    return result


def run_child(argv: list[str], timeout: float, name: str) -> str:
    """Run a driver in its own session (so Ctrl-C reaches only the bench); its stdout."""
    completed = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, start_new_session=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{name} failed ({completed.returncode}):\n{completed.stderr}")
    return completed.stdout
