"""The bench: its lean load driver against a tiny loopback server, then the real thing end to end.

The tiny server answers by the request body's "mode", with Content-Length or chunked framing
(split over several writes), GraphQL errors, HTTP 500 and `Connection: close`, so the
driver's framing, reconnection and error detection are exercised over real sockets.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
import pytest

from graphql_api.bench import targets
from graphql_api.bench.drivers import LoadSpec
from graphql_api.bench.load import LoadResult, encode_requests, percentile, run_load
from graphql_api.bench.queries import SCENARIOS
from graphql_api.bench.rawhttp import HEAD_BYTES, TAIL_BYTES, FramingError, ResponseParser
from graphql_api.bench.report import Row
from graphql_api.bench.tally import Tally
from graphql_api.bench.wrk import run_wrk

TARGETS = {"api", "floor"}
DOCUMENTS = {
    "length": {"data": {"ok": 1}, "extensions": {"sqlStatements": 1, "plan": "compiled"}},
    "chunked": {"data": {"ok": 2}, "extensions": {"sqlStatements": 3}},
    "errors": {"data": None, "errors": [{"message": "boom"}]},
    "close": {"data": {"ok": 3}, "extensions": {"sqlStatements": 1, "plan": "resolvers"}},
    # "errors" as a key inside data is not a GraphQL error: the cheap scan must not count it.
    "errors-in-data": {"data": {"payload": {"errors": []}}},
}
MODES = [*DOCUMENTS, "status"]


def _chunked(status: str, body: bytes) -> list[bytes]:
    """A chunked response in pieces that split the head, a chunk and the trailer apart."""
    half = len(body) // 2
    return [
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n".encode(),
        b"Transfer-Encoding: chunked\r\n",
        f"\r\n{half:x};ext=1\r\n".encode() + body[:half],
        f"\r\n{len(body) - half:X}\r\n".encode() + body[half:] + b"\r\n0\r\n",
        b"x-trailer: yes\r\n\r\n",
    ]


def _response(mode: str) -> list[bytes]:
    if mode == "status":
        return _chunked("500 Internal Server Error", b'{"detail":"down"}')
    body = orjson.dumps(DOCUMENTS[mode])
    if mode in ("chunked", "errors-in-data"):
        return _chunked("200 OK", body)
    close = "connection: close\r\n" if mode == "close" else ""
    head = f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n{close}\r\n".encode()
    return [head + body]


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while head := await reader.readuntil(b"\r\n\r\n"):
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            mode = orjson.loads(await reader.readexactly(length))["mode"]
            for piece in _response(mode):
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0)
            if mode == "close":
                break
    except (asyncio.IncompleteReadError, ConnectionResetError):
        pass  # the client went away (wrk resets its connections at the end)
    writer.close()


@asynccontextmanager
async def _tiny_server() -> AsyncIterator[str]:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/graphql"


async def _drive(check_every: int, max_requests: int, url: str | None = None) -> LoadResult:
    async def drive(target: str) -> LoadResult:
        bodies = [orjson.dumps({"mode": mode}) for mode in MODES]
        requests = encode_requests(target, bodies, {"content-type": "application/json"})
        return await run_load(
            target, requests, concurrency=3, duration=30.0, warmup=0.0,
            max_requests=max_requests, check_every=check_every,
        )  # fmt: skip

    if url is not None:
        return await drive(url)
    async with _tiny_server() as served:
        return await drive(served)


def test_driver_frames_both_encodings_and_counts_errors() -> None:
    result = asyncio.run(_drive(check_every=1, max_requests=60))
    per_mode = 60 // len(MODES)
    assert result.requests == 60
    assert result.errors == 2 * per_mode  # the GraphQL errors and the HTTP 500s
    assert any(sample.startswith("HTTP 500") for sample in result.error_samples)
    assert any("boom" in sample for sample in result.error_samples)
    assert result.checked_responses == 5 * per_mode  # every 200, decoded
    assert result.plans == {"compiled": per_mode, "resolvers": per_mode, "": 2 * per_mode}
    assert result.sql_statements_per_request == pytest.approx((1 + 3 + 1) / 3, abs=0.01)
    assert result.driver_cpu_seconds > 0
    assert 0 < result.p50_ms <= result.p99_ms


def test_driver_finds_errors_in_unsampled_responses() -> None:
    result = asyncio.run(_drive(check_every=1000, max_requests=60))
    per_mode = 60 // len(MODES)
    assert result.requests == 60
    assert result.errors == 2 * per_mode
    # Decoded: the first (and one a second), plus the responses that mention "errors".
    assert result.checked_responses <= 3 + 2 * per_mode


def test_driver_counts_refused_connections_as_errors() -> None:
    from tests.http_server import free_port

    result = asyncio.run(
        _drive(check_every=1, max_requests=5, url=f"http://127.0.0.1:{free_port()}/graphql")
    )
    assert result.requests == 0
    assert result.errors >= 3
    assert "connect" in result.error_samples[0]


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_driver_counts_errors_and_reads_extensions(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    served = asyncio.run_coroutine_threadsafe(_serve_forever(), loop)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        url = served.result(timeout=10)
        spec = LoadSpec(url, "tiny", tmp_path / "unused.json", tmp_path, 1.0, 0.0, 3, 0, 1, 42)
        result = run_wrk(spec, [orjson.dumps({"mode": mode}) for mode in MODES])
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
    assert result["requests"] > 20
    # Two modes in six fail: GraphQL errors and HTTP 500 (in-flight requests blur the edges).
    assert 0.25 < result["errors"] / result["requests"] < 0.42
    assert {"compiled", "resolvers"} <= set(result["plans"])
    assert result["sql_statements_per_request"] is not None
    assert any(sample.startswith("HTTP 500") for sample in result["error_samples"])


async def _serve_forever() -> str:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/graphql"


def test_parser_frames_byte_by_byte_and_in_one_piece() -> None:
    stream = b"".join([*_response("chunked"), *_response("length"), *_response("status")])
    for pieces in ([stream], [stream[i : i + 1] for i in range(len(stream))]):
        parser = ResponseParser()
        responses = [response for piece in pieces for response in parser.feed(piece)]
        assert [r.status for r in responses] == [200, 200, 500]
        assert orjson.loads(responses[0].body or b"") == DOCUMENTS["chunked"]
        assert orjson.loads(responses[1].body or b"") == DOCUMENTS["length"]
        assert parser.idle


def _long_response(body: bytes) -> bytes:
    return f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n\r\n".encode() + body


@pytest.mark.parametrize("wanted", [False, True])
def test_long_bodies_are_checked_by_their_head_and_tail(wanted: bool) -> None:
    filler = b'{"data":{"rows":[' + b'"x",' * 40_000 + b'"x"]}'
    failed, fine = filler + b',"errors":[{"message":"late"}]}', filler + b"}"
    parser = ResponseParser(wants_body=lambda length: wanted)
    stream = _long_response(failed) + _long_response(fine)
    cut = len(stream) // 3  # the first response's tail window straddles two reads
    responses = [*parser.feed(stream[:cut]), *parser.feed(stream[cut:])]
    assert [r.length for r in responses] == [len(failed), len(fine)]
    assert [r.body for r in responses] == ([failed, fine] if wanted else [None, None])
    assert responses[0].head == failed[:HEAD_BYTES]
    assert responses[0].tail == failed[-TAIL_BYTES:]

    tally = Tally(requests=[], deadline=0.0, max_requests=0)
    for response in responses:
        tally.record(0.001, response)
    assert tally.errors == 1
    assert "late" in tally.error_samples[0]
    assert tally.checked == (2 if wanted else 0)


def test_parser_rejects_unframed_responses() -> None:
    with pytest.raises(FramingError):
        ResponseParser().feed(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhello")


def _row(target: str, rps: float, p50: float, p99: float, sql: float, rss: float) -> Row:
    return Row(
        scenario="agentContext", target=target, path=target, requests=100, errors=0,
        seconds=1.0, requests_per_second=rps, p50_ms=p50, p95_ms=p99, p99_ms=p99, mean_ms=p50,
        sql_statements_per_request=sql, peak_rss_mb=rss, server_cpu_ms_per_request=0.1,
        driver_cpu_ms_per_request=0.03, db_cpu_ms_per_request=0.1, driver="python",
        plans={}, checked_responses=1, error_samples=[],
    )  # fmt: skip


def test_goals_are_judged_per_scenario() -> None:
    api, floor = _row("api", 600, 2.0, 5.0, 1.0, 160.0), _row("floor", 1000, 1.0, 2.0, 1.0, 40)
    verdicts = {check.name: check.met for check in targets.evaluate([api, floor])}
    assert verdicts == {
        "req/s vs floor": True,  # 0.6x >= 0.55x
        "p99 vs p50": True,  # 2.5x
        "SQL/req": True,
        "peak RSS": False,  # 160 MB
        "driver CPU vs server CPU": False,  # 0.3x of the server process
    }


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) == 0.0


@pytest.mark.timeout(120)
def test_bench_runs_end_to_end_with_parity(demo_loaded: str, tmp_path: Path) -> None:
    results_path = tmp_path / "bench.json"
    tiny = ["--members", "30", "--duration", "1", "--warmup", "0", "--concurrency", "2"]
    completed = subprocess.run(
        [sys.executable, "-m", "graphql_api.bench", *tiny, "--json", str(results_path)],
        env={**os.environ, "DATABASE_URL": demo_loaded},
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert "parity OK" in completed.stderr

    document = json.loads(results_path.read_text())
    assert document["parity"]["passed"] is True
    assert document["parity"]["requests"] >= 2
    results = document["results"]
    assert {(r["scenario"], r["target"]) for r in results} == {
        (scenario, target) for scenario in SCENARIOS for target in TARGETS
    }
    for row in results:
        assert row["requests"] > 0, row
        assert row["errors"] == 0, row
        assert row["requests_per_second"] > 0, row
        assert row["peak_rss_mb"] > 0, row
        assert row["sql_statements_per_request"] >= 1, row
        assert row["driver_cpu_ms_per_request"] > 0, row
        assert row["db_cpu_ms_per_request"] is None or row["db_cpu_ms_per_request"] > 0, row
        assert row["path"] in ("compiled", "resolvers", "floor"), row
    floor_rows = [r for r in results if r["target"] == "floor"]
    assert all(r["sql_statements_per_request"] == 1 for r in floor_rows)
    assert all(r["path"] == "floor" for r in floor_rows)
    assert {check["name"] for check in document["targets"]} >= {"req/s vs floor", "peak RSS"}

    table = completed.stdout
    for scenario in SCENARIOS:
        assert f"| {scenario} | api |" in table
        assert f"| {scenario} | floor |" in table
    assert "driver CPU ms/req" in table
