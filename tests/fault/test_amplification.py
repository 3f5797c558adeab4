"""The amplification loop at nesting 2 to 6, on a prediction with 158 feedback rows and a
server whose depth limit is raised to 20 (so the cost limit alone refuses 4 to 6): every
nesting is refused with QUERY_TOO_COMPLEX, quickly and without growing the server's memory,
and parallel copies do not hold up other requests."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from graphql_api.security.cost import QUERY_TOO_COMPLEX
from tests.fault.amplification import MB, feedback_loop, send_loop, simple_queries_beside_loops
from tests.fault.api_process import ApiProcess, api_process
from tests.fault.replies import send
from tests.fault.stack import DemoDatabase
from tests.fault.workload import api_client
from tests.feedback_rows import add_feedback

pytestmark = pytest.mark.fault

# Refused before any SQL: milliseconds. The bounds leave room for a loaded 2-core machine.
REFUSED_WITHIN_SECONDS = 2.0
SIMPLE_QUERY_WITHIN_SECONDS = 1.0 + 1.0
RSS_GROWTH_LIMIT = 50 * MB


@dataclass(frozen=True)
class LoopServer:
    api: ApiProcess
    token: str
    prediction_id: int


@pytest.fixture(scope="module")
def loop_server(
    fault_database: DemoDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LoopServer]:
    prediction_id = add_feedback(fault_database.url, 158)
    log = tmp_path_factory.mktemp("fault-loop") / "api.log"
    with api_process(
        fault_database.app_url, log, max_query_depth="20", rate_limit_enabled="false"
    ) as api:
        yield LoopServer(api, fault_database.admin_token, prediction_id)


def test_the_data_feeds_the_loop(loop_server: LoopServer) -> None:
    """One level is served, so the refusals below are not for want of rows."""
    with api_client(loop_server.api.base_url, loop_server.token, timeout=30) as client:
        reply = send(client, feedback_loop(1))
    assert reply.kind == "ok", reply.describe()
    feedback = [
        item for edge in reply.data["predictions"]["edges"] for item in edge["node"]["feedback"]
    ]
    assert len(feedback) >= 100  # the busy prediction's 158 rows, capped at 100


@pytest.mark.parametrize("nesting", [2, 3, 4, 5, 6])
def test_every_nesting_is_refused_quickly(loop_server: LoopServer, nesting: int) -> None:
    figure = send_loop(loop_server.api, loop_server.token, nesting)
    print(f"\n{figure.line()}")
    assert (figure.status, figure.code) == (200, QUERY_TOO_COMPLEX), loop_server.api.log_tail()
    assert figure.seconds < REFUSED_WITHIN_SECONDS
    assert figure.rss_peak - figure.rss_before < RSS_GROWTH_LIMIT


def test_parallel_loops_do_not_hold_up_a_simple_query(loop_server: LoopServer) -> None:
    beside = simple_queries_beside_loops(loop_server.api, loop_server.token, copies=4)
    print(f"\n{beside.line()}")
    assert beside.loops, "the loops never ran"
    assert {r.code for r in beside.loops} == {QUERY_TOO_COMPLEX}
    assert [r.kind for r in beside.simple] == ["ok"] * len(beside.simple)
    assert max(r.seconds for r in beside.simple) < SIMPLE_QUERY_WITHIN_SECONDS
