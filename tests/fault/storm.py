"""A storm of concurrent nested reads against the default pool: each request either gets a
pooled connection or, after the pool timeout, a typed 503 with Retry-After."""

import asyncio
import json
import statistics
import time
from dataclasses import dataclass

import httpx

from tests.fault.replies import Reply, classify, failures, no_response, tally
from tests.fault.workload import NESTED_MEMBERS, members_listed

_CLIENT_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class StormFigures:
    requests: int
    wall_seconds: float
    tally: dict[str, int]
    ok_seconds: list[float]
    unavailable_seconds: list[float]
    failures: list[str]

    def lines(self) -> list[str]:
        return [
            f"{self.requests} concurrent nested members(first: 10) requests: "
            f"{self.tally} in {self.wall_seconds:.2f} s",
            f"  successes: {_spread(self.ok_seconds)}",
            f"  typed 503s: {_spread(self.unavailable_seconds)}",
            f"  failures (neither success nor typed 503): {len(self.failures)}",
            *(f"    {failure}" for failure in self.failures[:10]),
        ]


def _spread(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"{len(ordered)}, latency min {ordered[0]:.2f} s, median "
        f"{statistics.median(ordered):.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s"
    )


def _request_bytes(base_url: str, token: str) -> bytes:
    host = base_url.removeprefix("http://")
    body = json.dumps({"query": NESTED_MEMBERS}).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


@dataclass(frozen=True)
class _Raw:
    started: float
    seconds: float
    response: bytes | None
    error: Exception | None


async def _one(address: tuple[str, int], request: bytes, start: asyncio.Event) -> _Raw:
    """One request on its own connection, read to EOF: a lean client (no HTTP library on
    the hot path), so the latencies are the server's and not the client's."""
    await start.wait()
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(request)
        response = await asyncio.wait_for(reader.read(), _CLIENT_TIMEOUT_SECONDS)
        writer.close()
    except (OSError, TimeoutError) as error:
        return _Raw(started, time.monotonic() - started, None, error)
    return _Raw(started, time.monotonic() - started, response, None)


def _reply(raw: _Raw) -> Reply:
    if raw.response is None:
        assert raw.error is not None
        return no_response(raw.error, raw.started, raw.seconds)
    head, _, body = raw.response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = [(name, value.strip()) for name, _, value in (h.partition(":") for h in header_lines)]
    response = httpx.Response(int(status_line.split()[1]), headers=headers, content=body)
    return classify(response, raw.started, raw.seconds, members_listed)


async def _storm(base_url: str, token: str, requests: int) -> tuple[list[Reply], float]:
    # One request first: the storm comes from a client whose key the API already knows.
    async with httpx.AsyncClient(base_url=base_url, timeout=_CLIENT_TIMEOUT_SECONDS) as client:
        warm = await client.post(
            "/graphql",
            json={"query": NESTED_MEMBERS},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert warm.status_code == 200, warm.text
    host, port = base_url.removeprefix("http://").split(":")
    request = _request_bytes(base_url, token)
    start = asyncio.Event()
    tasks = [asyncio.create_task(_one((host, int(port)), request, start)) for _ in range(requests)]
    await asyncio.sleep(0)
    began = time.monotonic()
    start.set()
    raws = await asyncio.gather(*tasks)
    wall = time.monotonic() - began
    return [_reply(raw) for raw in raws], wall


def run_storm(base_url: str, token: str, requests: int = 300) -> StormFigures:
    replies, wall = asyncio.run(_storm(base_url, token, requests))
    return StormFigures(
        requests=requests,
        wall_seconds=wall,
        tally=tally(replies),
        ok_seconds=[r.seconds for r in replies if r.kind == "ok"],
        unavailable_seconds=[r.seconds for r in replies if r.kind == "unavailable"],
        failures=failures(replies),
    )
