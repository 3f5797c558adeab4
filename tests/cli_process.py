"""`finance-api` as users run it: a subprocess on its own embedded PostgreSQL in a temporary
data directory (never DATABASE_URL or TEST_DATABASE_URL), and the postgres processes of that
directory, found with psutil independently of the code under test."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from tests.http_server import free_port

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 30.0
COMMAND = [sys.executable, "-m", "graphql_api.runtime.cli"]
# Settings that would point the CLI at another server, or change how it starts.
_FOREIGN = ("DATABASE_URL", "FINANCE_API_DATABASE_URL", "TEST_DATABASE_URL", "FINANCE_API_ENV")


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _FOREIGN}
    env["FINANCE_API_DATA_DIR"] = str(data_dir)
    env.pop("PENSION_API_BASE_URL", None)
    return env


def run_cli(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> "subprocess.CompletedProcess[str]":
    """`finance-api *args` on `data_dir`, with `env` on top of cli_env; its output as text."""
    return subprocess.run(
        [*COMMAND, *args],
        env={**cli_env(data_dir), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def data_directory(purpose: str) -> Iterator[Path]:
    """A fresh data directory, under the system temporary directory rather than pytest's: as
    root, the wheel runs PostgreSQL as another user, which needs to traverse every parent,
    and pytest makes its own temporary root private again at each session start (another
    session's, too). Any postgres still running from it is killed at the end."""
    with tempfile.TemporaryDirectory(prefix=f"finance-api-{purpose}-") as tmp:
        directory = Path(tmp) / "data"
        try:
            yield directory
        finally:
            kill_postgres(directory)


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """Live postgres processes (the postmaster and its children) of `<data_dir>/pgdata`:
    PostgreSQL runs from its data directory, and the postmaster names it on its command line."""
    pgdata = (data_dir / "pgdata").resolve()
    found = []
    for process in psutil.process_iter(["name"]):
        if process.info["name"] != "postgres":
            continue
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if Path(process.cwd()) == pgdata or str(pgdata) in process.cmdline():
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def wait_for_no_postgres(data_dir: Path, timeout: float = 10.0) -> list[psutil.Process]:
    """What is left after `timeout` (children may take a moment after the postmaster)."""
    deadline = time.monotonic() + timeout
    while (left := postgres_processes(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def kill_postgres(data_dir: Path) -> None:
    """Clean-up after a failed test: SIGKILL every postgres process of the data directory."""
    for process in postgres_processes(data_dir):
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    wait_for_no_postgres(data_dir)


@dataclass
class Served:
    process: "subprocess.Popen[bytes]"
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def stop_with(self, sig: signal.Signals, *, whole_group: bool = False) -> int:
        """Send `sig` to serve (or to its whole process group, as a terminal does); its exit
        code once it exits."""
        if whole_group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)


@contextmanager
def serve(
    data_dir: Path, log_path: Path, *args: str, wait_until_healthy: bool = True
) -> Iterator[Served]:
    """`finance-api serve --port <free> *args` in a session of its own, answering /healthz
    (unless not `wait_until_healthy`). Whatever happens, its process group is killed on exit;
    PostgreSQL runs in a session of its own: callers clean up with `kill_postgres`."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*COMMAND, "serve", "--port", str(port), *args],
            env=cli_env(data_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Served(process, f"http://127.0.0.1:{port}", log_path)
    try:
        if wait_until_healthy:
            _wait_until_healthy(served)
        yield served
    finally:
        # The whole session: a SIGKILLed supervisor's workers outlive it.
        _kill_group(process.pid)
        process.wait(timeout=10)


def _wait_until_healthy(served: Served) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(f"serve exited at start-up:\n{served.log()}")
        if served.healthy():
            return
        time.sleep(0.1)
    raise RuntimeError(f"serve did not answer /healthz in time:\n{served.log()}")


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        return
