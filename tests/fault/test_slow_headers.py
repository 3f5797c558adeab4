"""Slow headers against the API as `finance-api serve` runs it: 50 connections trickling their
request headers at 1 byte/s are closed once the header timeout passes, and a normal request
is served meanwhile."""

import threading
import time
from pathlib import Path

import pytest

from graphql_api.security.slowloris_probe import trickle
from tests.fault.api_process import api_process
from tests.fault.replies import Reply, send
from tests.fault.stack import DemoDatabase
from tests.fault.workload import SIMPLE_QUERY, api_client, members_listed

pytestmark = pytest.mark.fault

HEADER_TIMEOUT_SECONDS = 2.0
CONNECTIONS = 50
SLACK_SECONDS = 1.5  # scheduling on a loaded 2-core machine


def test_trickling_connections_are_closed_and_others_served(
    fault_database: DemoDatabase, tmp_path: Path
) -> None:
    with api_process(
        fault_database.app_url,
        tmp_path / "api.log",
        http_header_timeout_seconds=str(HEADER_TIMEOUT_SECONDS),
    ) as api:
        normal: list[Reply] = []

        def normal_request() -> None:
            time.sleep(0.5)  # the trickle has begun
            with api_client(api.base_url, fault_database.admin_token, timeout=10) as client:
                normal.append(send(client, SIMPLE_QUERY, is_success=members_listed))

        beside = threading.Thread(target=normal_request)
        beside.start()
        closed_after = trickle(
            "127.0.0.1",
            api.port,
            connections=CONNECTIONS,
            seconds=HEADER_TIMEOUT_SECONDS + 4,
            interval=1.0,
        )
        beside.join(timeout=15)
        log = api.log_tail()
    closed = sorted(after for after in closed_after if after is not None)
    spread = f"after {closed[0]:.2f}-{closed[-1]:.2f} s" if closed else ""
    print(
        f"\n{CONNECTIONS} connections at 1 header byte/s, header timeout "
        f"{HEADER_TIMEOUT_SECONDS:g} s: {len(closed)} closed {spread}; a normal request "
        f"meanwhile: {[reply.describe() for reply in normal]}"
    )
    assert len(closed) == CONNECTIONS, closed_after
    assert closed[0] >= HEADER_TIMEOUT_SECONDS * 0.9
    assert closed[-1] <= HEADER_TIMEOUT_SECONDS + SLACK_SECONDS
    [reply] = normal
    assert reply.kind == "ok", (reply.describe(), log)
    assert reply.seconds < HEADER_TIMEOUT_SECONDS
