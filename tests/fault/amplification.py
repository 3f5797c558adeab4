"""The amplification loop `predictions { feedback { prediction { feedback ... } } } }` against
a server process: what each nesting gets back, how fast, and what it costs in memory; and
whether copies of it running in parallel hold up a simple query."""

import threading
import time
from dataclasses import dataclass

from tests.fault.api_process import ApiProcess, PeakRss
from tests.fault.replies import Reply, send
from tests.fault.workload import SIMPLE_QUERY, api_client, members_listed

MB = 1024 * 1024


def feedback_loop(nesting: int) -> str:
    inner = "id"
    for _ in range(nesting):
        inner = f"feedback {{ id comment prediction {{ id {inner} }} }}"
    return f"{{ predictions {{ edges {{ node {{ id {inner} }} }} }} }}"


@dataclass(frozen=True)
class LoopFigure:
    nesting: int
    status: int | None
    code: str | None
    seconds: float
    rss_before: int
    rss_peak: int

    def line(self) -> str:
        return (
            f"nesting {self.nesting}: HTTP {self.status} {self.code} in "
            f"{self.seconds * 1000:.0f} ms, server RSS {self.rss_before / MB:.0f} MB, "
            f"peak {self.rss_peak / MB:.0f} MB"
        )


def send_loop(api: ApiProcess, token: str, nesting: int) -> LoopFigure:
    with api_client(api.base_url, token, timeout=60) as client, PeakRss(api.pid) as rss:
        reply = send(client, feedback_loop(nesting))
    return LoopFigure(nesting, reply.status, reply.code, reply.seconds, rss.before, rss.peak)


@dataclass(frozen=True)
class BesideLoops:
    simple: list[Reply]  # the simple queries sent while the loops ran
    loops: list[Reply]

    def line(self) -> str:
        slowest = max(r.seconds for r in self.simple)
        codes = sorted({str(r.code) for r in self.loops})
        return (
            f"{len(self.simple)} simple queries beside {len(self.loops)} loop requests "
            f"(codes {codes}): slowest {slowest * 1000:.0f} ms"
        )


def simple_queries_beside_loops(
    api: ApiProcess, token: str, *, copies: int = 4, seconds: float = 2.0
) -> BesideLoops:
    """`copies` threads send the loop (nesting 4 to 6) back to back; meanwhile this thread
    sends a simple query every 50 ms."""
    stop = threading.Event()
    loops: list[Reply] = []

    def hammer(nesting: int) -> None:
        with api_client(api.base_url, token, timeout=60) as client:
            while not stop.is_set():
                loops.append(send(client, feedback_loop(nesting)))

    threads = [threading.Thread(target=hammer, args=(4 + i % 3,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    simple: list[Reply] = []
    try:
        time.sleep(0.2)
        with api_client(api.base_url, token, timeout=60) as client:
            ends = time.monotonic() + seconds
            while time.monotonic() < ends:
                simple.append(send(client, SIMPLE_QUERY, is_success=members_listed))
                time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=70)
    return BesideLoops(simple, loops)
