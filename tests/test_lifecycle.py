"""`finance-api serve` stops everything it started, whichever way it is asked to: SIGTERM
(kill, timeout, systemd, container stop), SIGINT (Ctrl-C) and SIGHUP (a closed terminal),
with one process or with workers; and a PostgreSQL left behind by a SIGKILLed run is adopted
by the next `serve` and stopped when that one stops.

Every run uses the embedded PostgreSQL in a temporary data directory (whatever
TEST_DATABASE_URL says) and is killed, with its postgres, if a test fails."""

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from tests.cli_process import (
    data_directory,
    kill_postgres,
    postgres_processes,
    run_cli,
    serve,
    wait_for_no_postgres,
)

pytestmark = pytest.mark.lifecycle


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """One data directory for the module: initdb runs once, each test starts the server."""
    with data_directory("lifecycle") as directory:
        yield directory


@pytest.fixture
def no_postgres_left(data_dir: Path) -> Iterator[None]:
    """Each test starts from, and leaves, a data directory with no server running."""
    kill_postgres(data_dir)
    yield
    kill_postgres(data_dir)


@pytest.mark.usefixtures("no_postgres_left")
@pytest.mark.parametrize(
    ("stop_signal", "workers", "whole_group"),
    [
        (signal.SIGTERM, 1, False),
        (signal.SIGINT, 1, False),
        (signal.SIGHUP, 1, False),
        (signal.SIGHUP, 2, False),
        # Ctrl-C in a terminal: every process of the foreground group gets SIGINT.
        (signal.SIGINT, 2, True),
        # A closed terminal: every process of the group gets SIGHUP; workers must not die.
        (signal.SIGHUP, 2, True),
    ],
    ids=[
        "SIGTERM",
        "SIGINT",
        "SIGHUP",
        "SIGHUP-2-workers",
        "Ctrl-C-2-workers",
        "closed-terminal-2-workers",
    ],
)
def test_a_stop_signal_stops_the_api_then_postgres(
    data_dir: Path, tmp_path: Path, stop_signal: signal.Signals, workers: int, whole_group: bool
) -> None:
    with serve(data_dir, tmp_path / "serve.log", "--no-demo", "--workers", str(workers)) as api:
        assert postgres_processes(data_dir), "serve answered without a running PostgreSQL"
        # Every worker serving (one killed while importing the app just dies, uvicorn's way).
        _wait_for(lambda: api.log().count("Application startup complete") == workers)
        workers_before = psutil.Process(api.process.pid).children(recursive=True)
        exit_code = api.stop_with(stop_signal, whole_group=whole_group)
        log = api.log()

    assert exit_code == 0, log
    assert "Traceback" not in log, log
    assert wait_for_no_postgres(data_dir) == [], log
    # Workers, and the multiprocessing resource tracker a moment after serve.
    assert psutil.wait_procs(workers_before, timeout=10)[1] == [], log
    assert log.count("stopped API server") == 1, log
    assert log.count("stopped PostgreSQL (data dir ") == 1, log
    # The API's uvicorn shutdown lines appear once (the sandbox provider's are not shown).
    assert log.count("Finished server process") == workers, log
    assert log.index("stopped API server") < log.index("stopped PostgreSQL"), log


@pytest.mark.usefixtures("no_postgres_left")
def test_sigterm_while_postgres_starts_still_stops_it(data_dir: Path, tmp_path: Path) -> None:
    """SIGTERM as soon as the server's processes appear: during its start or migration,
    where an exception would leave a server nobody stops; it is held until they finish."""
    with serve(data_dir, tmp_path / "serve.log", "--no-demo", wait_until_healthy=False) as api:
        _wait_for(lambda: bool(postgres_processes(data_dir)), timeout=60)
        exit_code = api.stop_with(signal.SIGTERM)
        log = api.log()
    # 143 (128 + SIGTERM) while starting; 0 if uvicorn was already serving.
    assert exit_code in (0, 128 + signal.SIGTERM), log
    assert "Traceback" not in log, log
    assert wait_for_no_postgres(data_dir) == [], log
    assert log.count("stopped PostgreSQL (data dir ") == 1, log


@pytest.mark.usefixtures("no_postgres_left")
def test_a_one_shot_command_beside_serve_leaves_its_server_running(
    data_dir: Path, tmp_path: Path
) -> None:
    with serve(data_dir, tmp_path / "serve.log", "--no-demo") as api:
        listed = run_cli(data_dir, "keys", "list")
        assert listed.returncode == 0, listed.stderr
        assert "demo admin (serve)" in listed.stdout
        assert api.healthy()
        assert postgres_processes(data_dir)
        assert api.stop_with(signal.SIGTERM) == 0
    assert wait_for_no_postgres(data_dir) == []


@pytest.mark.usefixtures("no_postgres_left")
def test_postgres_left_by_a_killed_serve_is_adopted_and_stopped(
    data_dir: Path, tmp_path: Path
) -> None:
    with serve(data_dir, tmp_path / "killed.log", "--no-demo") as killed:
        killed.stop_with(signal.SIGKILL)
    left_behind = postgres_processes(data_dir)
    assert left_behind, "a SIGKILLed serve cannot stop PostgreSQL: nothing to adopt"

    with serve(data_dir, tmp_path / "next.log", "--no-demo") as api:
        assert api.healthy()
        assert api.stop_with(signal.SIGINT) == 0
        log = api.log()

    assert "adopted PostgreSQL" in log, log
    assert wait_for_no_postgres(data_dir) == [], log
    assert psutil.wait_procs(left_behind, timeout=10)[1] == [], log


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
