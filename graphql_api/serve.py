"""What `finance-api serve` runs beside the API on the embedded database: the sandbox pension
provider, so syncMember works out of the box with no provider configured."""

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from graphql_api.config import Settings, get_settings
from graphql_api.sandbox import create_sandbox_app

logger = logging.getLogger(__name__)

BASE_URL_VARIABLE = "PENSION_API_BASE_URL"
# The sandbox's admin endpoints are unauthenticated: it never listens beyond loopback.
SANDBOX_HOST = "127.0.0.1"
_START_TIMEOUT_SECONDS = 10.0
_MAX_PORT = 65535


def bind_loopback(preferred_port: int) -> socket.socket:
    """A loopback socket bound to `preferred_port` when it is free, else to any free port."""
    candidates = (preferred_port, 0) if 0 < preferred_port <= _MAX_PORT else (0,)
    for port in candidates:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((SANDBOX_HOST, port))
        except OSError:
            sock.close()
            continue
        return sock
    raise OSError("no free loopback port for the sandbox pension provider")


@contextmanager
def sandbox_in_thread(preferred_port: int, api_key: str | None) -> Iterator[str]:
    """Serve the sandbox provider from a daemon thread; yield its base URL; stop it on exit."""
    sock = bind_loopback(preferred_port)
    config = uvicorn.Config(
        create_sandbox_app(api_key=api_key),
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    # uvicorn installs signal handlers only on the main thread, so Ctrl-C stays with the API.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-provider", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox pension provider did not start")
            time.sleep(0.01)
        yield f"http://{SANDBOX_HOST}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@contextmanager
def sandbox_unless_configured(settings: Settings, api_port: int) -> Iterator[None]:
    """Unless PENSION_API_BASE_URL is set, run the sandbox next to the API (on `api_port` + 1
    when free), checking PENSION_API_KEY, and point the API (workers included, through the
    environment) at it until exit."""
    if settings.pension_api_base_url:
        yield
        return
    with sandbox_in_thread(api_port + 1, settings.pension_api_key.get_secret_value()) as url:
        os.environ[BASE_URL_VARIABLE] = url
        get_settings.cache_clear()
        logger.info(
            "sandbox pension provider at %s (set %s to use another)", url, BASE_URL_VARIABLE
        )
        try:
            yield
        finally:
            os.environ.pop(BASE_URL_VARIABLE, None)
            get_settings.cache_clear()
