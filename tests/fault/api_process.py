"""The API as `finance-api serve` runs it, in its own process: killable with SIGKILL, its
memory readable with psutil, its log kept in a file for the report when a case fails."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from tests.http_server import free_port

_START_TIMEOUT_SECONDS = 60.0


@dataclass
class ApiProcess:
    process: "subprocess.Popen[bytes]"
    base_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def rss_bytes(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no rollback from the API's side."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def api_process(database_url: str, log_path: Path, **settings: str) -> Iterator[ApiProcess]:
    """`finance-api serve --port <free>` on `database_url` (as given, like production), with
    `settings` as FINANCE_API_<NAME> variables; stopped (SIGTERM, then SIGKILL) on exit."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        **{f"FINANCE_API_{name.upper()}": value for name, value in settings.items()},
    }
    command = [sys.executable, "-m", "graphql_api.runtime.cli", "serve", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    api = ApiProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_serving(api)
        yield api
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_until_serving(api: ApiProcess) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if api.process.poll() is not None:
            raise RuntimeError(f"the API exited at start-up:\n{api.log_tail()}")
        try:
            if httpx.get(f"{api.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"the API did not start in time:\n{api.log_tail()}")


class PeakRss:
    """Samples a process's resident set size in a background thread: the largest seen."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        self._process = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self.before = int(self._process.memory_info().rss)
        self.peak = self.before
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, int(self._process.memory_info().rss))

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, int(self._process.memory_info().rss))
            self._stop.wait(self._interval)


def high_water_mark_bytes(pid: int) -> int:
    """VmHWM: the process's peak RSS since it started (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/<pid>/status")
