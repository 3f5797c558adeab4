"""Figures for `finance-api serve`'s lifecycle: for each way of stopping it, how long it took to
answer /healthz, how long from the signal to its exit, its exit code, and how many processes it
left (postgres of its data directory, workers). Run:

    .venv/bin/python -m tests.lifecycle_figures [--repeat N]

Uses the embedded PostgreSQL in a temporary data directory (initdb once), like the tests."""

import argparse
import signal
import tempfile
import time
from pathlib import Path

import psutil

from tests.cli_process import kill_postgres, postgres_processes, serve, wait_for_no_postgres

CASES = [
    ("SIGTERM", signal.SIGTERM, 1, False),
    ("SIGINT", signal.SIGINT, 1, False),
    ("SIGHUP", signal.SIGHUP, 1, False),
    ("SIGTERM, 2 workers", signal.SIGTERM, 2, False),
    ("SIGHUP, 2 workers", signal.SIGHUP, 2, False),
    ("Ctrl-C (group SIGINT), 2 workers", signal.SIGINT, 2, True),
]


def _one(data_dir: Path, log: Path, sig: signal.Signals, workers: int, group: bool) -> str:
    started = time.perf_counter()
    with serve(data_dir, log, "--no-demo", "--workers", str(workers)) as api:
        ready = time.perf_counter() - started
        while api.log().count("Application startup complete") < workers:
            time.sleep(0.05)
        children = psutil.Process(api.process.pid).children(recursive=True)
        signalled = time.perf_counter()
        code = api.stop_with(sig, whole_group=group)
        stopped = time.perf_counter() - signalled
    left_postgres = len(wait_for_no_postgres(data_dir, timeout=5))
    # The multiprocessing resource tracker exits a moment after serve does.
    left_children = len(psutil.wait_procs(children, timeout=5)[1])
    return f"{ready:.2f} | {stopped:.2f} | {code} | {left_postgres} | {left_children}"


def _adoption(data_dir: Path, log: Path) -> str:
    """SIGKILL one serve, start another on the same data directory, stop it with SIGINT."""
    with serve(data_dir, log, "--no-demo") as killed:
        killed.stop_with(signal.SIGKILL)
    orphans = len(postgres_processes(data_dir))
    row = _one(data_dir, log, signal.SIGINT, 1, False)
    adopted = "adopted PostgreSQL" in log.read_text()
    return f"SIGKILL ({orphans} postgres left), new serve (adopted: {adopted}), SIGINT | {row}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (default: 1)")
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory(prefix="lifecycle-figures-") as tmp:
        data_dir, log = Path(tmp) / "data", Path(tmp) / "serve.log"
        try:
            print(
                "| stop | to /healthz s | signal to exit s | exit code | postgres left |"
                " workers left |"
            )
            print("|---|---:|---:|---:|---:|---:|")
            for name, sig, workers, group in CASES:
                for _ in range(repeat):
                    print(f"| {name} | {_one(data_dir, log, sig, workers, group)} |", flush=True)
            for _ in range(repeat):
                print(f"| {_adoption(data_dir, log)} |", flush=True)
        finally:
            kill_postgres(data_dir)


if __name__ == "__main__":
    main()
