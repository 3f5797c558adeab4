"""How `finance-api serve` runs: uvicorn with the slow-client protocol, the garbage
collector tuned for a long-running server, and (on the embedded database) the sandbox pension
provider beside the API, so syncMember works out of the box with no provider configured."""

import gc
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from graphql_api.config import Settings, get_settings
from graphql_api.sandbox import create_sandbox_app

logger = logging.getLogger(__name__)

BASE_URL_VARIABLE = "PENSION_API_BASE_URL"
# The sandbox's admin endpoints are unauthenticated: it never listens beyond loopback.
SANDBOX_HOST = "127.0.0.1"
_START_TIMEOUT_SECONDS = 10.0
_MAX_PORT = 65535
_SANDBOX_THREAD = "sandbox-provider"
# What uvicorn exits with when the app or its socket fails before serving.
STARTUP_FAILURE = 3

# Each of these stops `serve` gracefully: uvicorn's own handling covers SIGINT and SIGTERM;
# SIGHUP (a closed terminal, `kill -HUP`) would otherwise end a single process on the spot, or
# make the --workers supervisor restart its workers, leaving the embedded PostgreSQL running.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# By import path, so that `--workers` processes (which unpickle the config) load it too; it
# reads FINANCE_API_HTTP_HEADER_TIMEOUT_SECONDS (security/slow_clients.py).
HTTP_PROTOCOL = "graphql_api.security.slow_clients:AutoHeaderTimeoutProtocol"
APP_FACTORY = "graphql_api.runtime.serve:worker_app"

# CPython's default is (700, 10, 10): a young-generation collection every 700 net container
# allocations, i.e. dozens of collections per GraphQL request (a nested query builds tens of
# thousands of dicts, lists and objects, nearly all freed by reference counting as soon as the
# response is written). At 50,000 a collection runs about once per large request; each one
# still only scans objects allocated since the last, so the total work drops rather than
# moves, and at most ~50,000 young objects of cyclic garbage wait for it (a few MB). Older
# generations are collected every 20 young/middle collections, as rarely as before in
# requests, and a full collection never rescans what `gc.freeze()` set aside at start-up
# (the schema, SQLAlchemy metadata, the sentiment lexicon).
GC_THRESHOLDS = (50_000, 20, 20)


def run_api(host: str, port: int, workers: int, *, log_level: str = "info") -> None:
    """Serve the API (app factory, so each worker process builds its own app and engine) until
    one of STOP_SIGNALS; return normally after a graceful stop, so the caller stops what it
    started (the embedded PostgreSQL). Raises SystemExit if the server failed to start."""
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=HTTP_PROTOCOL,
        log_level=log_level,
        # The app writes one structured JSON line per request (graphql_api/telemetry).
        access_log=False,
        timeout_graceful_shutdown=10,
        **websocket_options(get_settings()),
    )
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    try:
        if workers > 1:
            supervisor = _Supervisor(config, sockets=[config.bind_socket()])
            supervisor.run()
            if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
                raise SystemExit(STARTUP_FAILURE)
            return
        server = _Server(config)
        server.run()
        if not server.started:
            raise SystemExit(STARTUP_FAILURE)
    finally:
        # The supervisor replaces the handlers for good; the caller's apply again.
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def websocket_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's WebSocket settings for subscriptions (graphql_api/realtime): server pings
    (a peer that does not answer in time is dropped) and the largest message accepted (a
    larger one closes the connection with 1009)."""
    return {
        "ws_ping_interval": settings.ws_ping_interval_seconds,
        "ws_ping_timeout": settings.ws_ping_timeout_seconds,
        "ws_max_size": settings.ws_max_message_bytes,
        # Events are small JSON: compression would cost CPU per message for little.
        "ws_per_message_deflate": False,
    }


def worker_app() -> Any:
    """The app factory uvicorn calls in every process that serves. A `--workers` child ignores
    SIGHUP: when a terminal closes, the whole process group gets it, and the supervisor stops
    the workers gracefully; a child dying on the signal itself would cut the requests in
    flight and skip its shutdown."""
    if multiprocessing.parent_process() is not None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    from graphql_api.runtime.app import create_app

    return create_app()


class _Server(uvicorn.Server):
    """uvicorn's server, stopping on any of STOP_SIGNALS, and not re-raising the signal once
    stopped (uvicorn does, and a re-raised SIGTERM ends the process on the spot, before the
    caller can stop the embedded PostgreSQL)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class _Supervisor(Multiprocess):
    """uvicorn's --workers supervisor; SIGHUP stops it (and its workers) like SIGTERM."""

    def handle_hup(self) -> None:
        logging.getLogger("uvicorn.error").info("Received SIGHUP, exiting.")
        self.should_exit.set()


@contextmanager
def tuned_gc(enabled: bool = True) -> Iterator[None]:
    """While the server runs: freeze what start-up allocated (collected first, so no garbage
    is kept forever) and raise the collection thresholds; restore both on exit (tests and
    embedders keep using the process)."""
    if not enabled:
        yield
        return
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


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
        target=server.run, kwargs={"sockets": [sock]}, name=_SANDBOX_THREAD, daemon=True
    )
    # Both servers log through "uvicorn.error": keep the sandbox's start and stop lines out of
    # the API's (they read as the API starting and stopping twice).
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addFilter(_not_sandbox_info)
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
        uvicorn_log.removeFilter(_not_sandbox_info)
        logger.info("stopped sandbox pension provider")


def _not_sandbox_info(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.threadName != _SANDBOX_THREAD


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
