"""The time budget of one provider call.

A call must be over by its deadline: the sooner of the caller's (for syncMember, the request's
deadline less a margin) and the client's own `total_timeout`. Every attempt's timeouts are
clipped to the time left, and no attempt starts (nor does a backoff sleep begin) unless at
least `min_attempt_seconds` would remain for it afterwards.

stamina's own `timeout=` cannot give this guarantee: it is tenacity's `stop_after_delay`,
checked only after an attempt fails, so neither a running attempt nor the backoff sleep that
follows it is bounded by it. Times are event-loop times (`loop.time()`, monotonic).
"""

import asyncio

import httpx

from graphql_api.upstream.config import PensionClientConfig


class CallBudget:
    """When one call must be over, and what that leaves for each attempt."""

    __slots__ = ("_config", "_loop", "deadline", "exhausted")

    def __init__(self, config: PensionClientConfig, caller_deadline: float | None) -> None:
        self._config = config
        self._loop = asyncio.get_running_loop()
        deadlines = [d for d in (caller_deadline, self._own_deadline()) if d is not None]
        # Event-loop time by which the call is over; None: only max_attempts bounds it.
        self.deadline: float | None = min(deadlines) if deadlines else None
        # Set once a retry was skipped for lack of time (for the error message).
        self.exhausted = False

    def _own_deadline(self) -> float | None:
        total = self._config.total_timeout
        return None if total is None else self._loop.time() + total

    def left(self) -> float | None:
        """Seconds until the deadline (negative once passed); None without one."""
        return None if self.deadline is None else self.deadline - self._loop.time()

    def allows_attempt(self, after_wait: float = 0.0) -> bool:
        """Whether an attempt started `after_wait` seconds from now would still have the
        minimum useful time before the deadline."""
        left = self.left()
        return left is None or left - after_wait >= self._config.min_attempt_seconds

    def attempt_timeout(self) -> httpx.Timeout:
        """The configured httpx timeouts, each clipped to the time left."""
        cfg = self._config
        left = self.left()
        cap = float("inf") if left is None else max(left, 0.001)
        connect, read = min(cfg.connect_timeout, cap), min(cfg.read_timeout, cap)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    def wait_before_retry(self, wanted: float) -> float | None:
        """`wanted` seconds of backoff, or None (give up) when an attempt after that wait
        would not have the minimum useful time left."""
        if self.allows_attempt(after_wait=wanted):
            return wanted
        self.exhausted = True
        return None
