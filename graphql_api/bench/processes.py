"""Child processes of the bench: the two servers and the load driver.

Every child runs in its own session, so a Ctrl-C in the terminal reaches only the bench,
whose `finally` blocks stop the children in order: SIGTERM, a grace period, then SIGKILL.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

HOST = "127.0.0.1"
GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class Server:
    name: str
    process: "subprocess.Popen[bytes]"
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/graphql"

    @property
    def health_url(self) -> str:
        return f"http://{HOST}:{self.port}/healthz"

    def serving_process(self) -> psutil.Process:
        """The process that serves: the uvicorn process itself, or its busiest worker child."""
        parent = psutil.Process(self.process.pid)
        children = parent.children(recursive=True)
        if not children:
            return parent
        return max(children, key=lambda child: child.memory_info().rss)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def uvicorn_argv(app: str, port: int) -> list[str]:
    """The same uvicorn settings for both targets: one worker, no per-request access log."""
    return [
        sys.executable, "-m", "uvicorn", app, "--factory",
        "--host", HOST, "--port", str(port), "--workers", "1",
        "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "5",
    ]  # fmt: skip


@contextmanager
def running_server(
    name: str, app: str, port: int, env: dict[str, str], log_dir: Path
) -> Iterator[Server]:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            uvicorn_argv(app, port),
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Server(name, process, port, log_path)
    finally:
        stop(process)


def stop(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_healthy(servers: list[Server], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    pending = list(servers)
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while pending:
            server = pending[0]
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}"
                )
            try:
                if client.get(server.health_url).status_code == 200:
                    pending.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{server.name} not healthy after {timeout}s:\n{server.log_tail()}"
                )
            time.sleep(0.1)


def reset_peak_rss(process: psutil.Process) -> bool:
    """Reset VmHWM to the current RSS (Linux clear_refs 5), so the next peak is per run."""
    try:
        Path(f"/proc/{process.pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb(process: psutil.Process) -> float:
    """VmHWM (peak resident set) in MB, or the current RSS where /proc has no VmHWM."""
    try:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(process.memory_info().rss / 2**20, 1)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)
