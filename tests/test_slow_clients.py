"""The request-header deadline (security/slow_clients.py) on real uvicorn servers on loopback:
trickling and idle connections are closed, prompt and slow-but-complete requests are served,
a slow response is never cut off, and `finance-api serve` uses it with the configured timeout."""

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from graphql_api.runtime.serve import HTTP_PROTOCOL
from graphql_api.security.slow_clients import (
    AutoHeaderTimeoutProtocol,
    HeaderTimeoutH11Protocol,
    with_header_timeout,
)
from graphql_api.security.slowloris_probe import trickle
from tests.http_server import free_port

# No session database fixture, but real uvicorn servers and a `finance-api serve` subprocess.
pytestmark = pytest.mark.integration

TIMEOUT = 1.0
SLACK = 1.0  # scheduling on a shared 2-core machine
REQUEST = b"GET /hello HTTP/1.1\r\nHost: test\r\nX-Padding: some-header-value\r\n\r\n"


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    """`/slow` answers after 1.5 x the header timeout; everything else at once."""
    assert scope["type"] == "http"
    if scope["path"] == "/slow":
        await asyncio.sleep(TIMEOUT * 1.5)
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(
    scope="module",
    params=[AutoHeaderTimeoutProtocol, HeaderTimeoutH11Protocol],
    ids=lambda p: p.__name__,
)
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    """A uvicorn server with the protocol under test and a 1 s header timeout."""
    port = free_port()
    config = uvicorn.Config(
        hello,
        host="127.0.0.1",
        port=port,
        http=with_header_timeout(TIMEOUT, request.param),
        lifespan="off",
        log_level="warning",
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.02)
    yield "127.0.0.1", port
    uv.should_exit = True
    thread.join(timeout=5)


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (reading any response), None if it did not."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return None
    except OSError:
        pass
    return time.monotonic() - started


def _send_slowly(sock: socket.socket, data: bytes, over_seconds: float) -> None:
    pause = over_seconds / len(data)
    for index in range(len(data)):
        sock.sendall(data[index : index + 1])
        time.sleep(pause)


def _read_response(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    response = b""
    while not response.endswith(b"\r\n\r\nok"):
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {response!r}"
        response += chunk
    return response


def test_trickling_connections_are_closed_within_the_timeout(server: tuple[str, int]) -> None:
    host, port = server
    closed_after = trickle(host, port, connections=20, seconds=TIMEOUT + 3, interval=0.1)
    assert None not in closed_after, closed_after
    assert all(TIMEOUT * 0.9 <= after <= TIMEOUT + SLACK for after in closed_after if after)


def test_an_idle_new_connection_is_closed(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        closed_after = _closed_within(sock, TIMEOUT + 3)
    assert closed_after is not None
    assert closed_after <= TIMEOUT + SLACK


def test_prompt_and_slow_but_complete_requests_are_served(server: tuple[str, int]) -> None:
    host, port = server
    assert httpx.get(f"http://{host}:{port}/hello").text == "ok"
    with socket.create_connection(server) as sock:
        _send_slowly(sock, REQUEST, over_seconds=TIMEOUT * 0.6)
        assert _read_response(sock).startswith(b"HTTP/1.1 200")


def test_a_response_slower_than_the_timeout_is_not_cut_off(server: tuple[str, int]) -> None:
    """The deadline covers the headers only: the app may take longer to answer."""
    with socket.create_connection(server) as sock:
        sock.sendall(REQUEST.replace(b"/hello", b"/slow"))
        assert _read_response(sock).startswith(b"HTTP/1.1 200")


def test_the_deadline_restarts_for_each_request_on_a_kept_alive_connection(
    server: tuple[str, int],
) -> None:
    with socket.create_connection(server) as sock:
        for _ in range(3):  # each request well inside the timeout, together longer than it
            _send_slowly(sock, REQUEST, over_seconds=TIMEOUT * 0.5)
            assert _read_response(sock).startswith(b"HTTP/1.1 200")
        # The next request trickles: the connection is closed, without a response.
        sock.sendall(REQUEST[:10])
        closed_after = _closed_within(sock, TIMEOUT + 3)
    assert closed_after is not None
    assert closed_after <= TIMEOUT + SLACK


def test_pipelined_requests_are_all_served(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(REQUEST.replace(b"/hello", b"/slow") + REQUEST)
        first = _read_response(sock)
        assert first.startswith(b"HTTP/1.1 200")
        if first.count(b"HTTP/1.1 200") < 2:
            assert _read_response(sock).startswith(b"HTTP/1.1 200")


def test_the_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        with_header_timeout(0)


def test_finance_api_serve_closes_trickling_connections(
    app_database_url: str, tmp_path: Path
) -> None:
    """The real command, in its own process, with the timeout from the environment."""
    port = free_port()
    env: dict[str, Any] = {
        **os.environ,
        "DATABASE_URL": app_database_url,
        "FINANCE_API_HTTP_HEADER_TIMEOUT_SECONDS": str(TIMEOUT),
    }
    command = [sys.executable, "-m", "graphql_api.runtime.cli", "serve", "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_for_health(port, process, log)
        closed_after = trickle("127.0.0.1", port, connections=10, seconds=TIMEOUT + 3, interval=0.1)
        assert None not in closed_after, closed_after
        assert all(after <= TIMEOUT + SLACK for after in closed_after if after)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(timeout=15)


def _wait_for_health(port: int, process: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("finance-api serve did not start")


def test_serve_selects_the_protocol_by_import_path() -> None:
    config = uvicorn.Config(hello, http=HTTP_PROTOCOL)
    config.load()
    assert config.http_protocol_class is AutoHeaderTimeoutProtocol
