"""Run the sandbox pension provider as a real uvicorn HTTP server on loopback, for tests.

    with running_sandbox(api_key="k") as sandbox:
        sandbox.set_fault("error_500", times=2)
        ... PensionClient(sandbox.base_url, "k") ...
        assert sandbox.requests_for("M-100001") == 3

The server runs in a daemon thread with its own event loop, so tests on any loop (or none) can
call it, and the admin helpers below use a synchronous httpx client: they never touch the
test's event loop.
"""

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from graphql_api.sandbox.provider import create_sandbox_app
from graphql_api.upstream import PensionClientConfig

_START_TIMEOUT_SECONDS = 10.0
# The sandbox's maximum `delay_seconds`; a hung request is cancelled when the server stops.
HANG_SECONDS = 60.0


class SandboxServer:
    """Handle on a running sandbox: its URL plus the admin endpoints as methods."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._admin = httpx.Client(base_url=base_url, timeout=5.0)

    def set_fault(self, mode: str, **options: Any) -> dict[str, Any]:
        # json.dumps rather than httpx's json=: httpx refuses NaN, which tests inject on purpose.
        response = self._admin.post(
            "/_sandbox/faults",
            content=json.dumps({"mode": mode, **options}),
            headers={"Content-Type": "application/json"},
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def hang(self, times: int = 1000) -> None:
        """The next `times` member requests are accepted and never answered: the sandbox's
        longest delay outlasts any budget a test gives the client."""
        self.set_fault("slow", times=times, delay_seconds=HANG_SECONDS)

    def stats(self) -> dict[str, Any]:
        response = self._admin.get("/_sandbox/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def requests_for(self, member_number: str) -> int:
        """How many member requests the sandbox received for this member number."""
        return int(self.stats()["requests"].get(member_number, 0))

    def reset(self) -> None:
        self._admin.post("/_sandbox/reset").raise_for_status()

    def close(self) -> None:
        self._admin.close()


def _bind_loopback() -> socket.socket:
    # Binding port 0 ourselves and handing uvicorn the socket avoids the race of picking a
    # "free" port and binding it later.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def running_sandbox(
    api_key: str | None = None, members_file: Path | None = None
) -> Iterator[SandboxServer]:
    """Start the sandbox on 127.0.0.1:<free port>, yield a handle, stop it on exit."""
    app = create_sandbox_app(members_file=members_file, api_key=api_key)
    sock = _bind_loopback()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-provider", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("sandbox provider did not start")
        time.sleep(0.01)
    handle = SandboxServer(f"http://127.0.0.1:{port}")
    try:
        yield handle
    finally:
        handle.close()
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


# Small timings so a whole fault matrix runs in a few seconds.
FAST_CLIENT_CONFIG = PensionClientConfig(
    connect_timeout=1.0,
    read_timeout=0.3,
    backoff_initial=0.01,
    backoff_max=0.05,
    backoff_jitter=0.01,
    retry_after_max=2.0,
    breaker_threshold=5,
    breaker_cooldown=30.0,
)
