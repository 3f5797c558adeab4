"""Async client for the upstream pension provider: `GET {base}/members/{memberNumber}`.

Resilience, from the outside in:

* a circuit breaker (purgatory) around each call: after `breaker_threshold` consecutive failed
  calls it fails fast with `UpstreamUnavailable` and no HTTP attempt for `breaker_cooldown`
  seconds, then lets a trial call through (success closes it, failure re-opens it). A 404 or a
  cancelled call is not a failure of the provider and does not count;
* a time budget per call (budget.py): the call is over by its deadline, the sooner of the
  caller's (`get_member(deadline=...)`) and `total_timeout`. Each attempt's timeouts are
  clipped to the time left, and no retry starts without `min_attempt_seconds` left for it;
  running out of time is `UpstreamUnavailable`, and counts as a provider failure (below);
* retries (stamina) inside one call: up to `max_attempts` HTTP attempts with jittered
  exponential backoff on connection errors, timeouts, 5xx and 429. stamina's `on=` hook may
  return a float, which replaces the backoff: the hook computes every backoff (a 429's
  Retry-After, or the exponential one) so it can refuse one that would outlast the budget;
* httpx connect/read timeouts on every attempt.

Budget and breaker: a call that made at least one attempt and ran out of time counts as a
failure, because the provider did not answer within the time it was given (at least
`min_attempt_seconds`); a hung provider must open the circuit like a failing one. A call whose
budget was too short for even one attempt never reaches the provider or the breaker.

The API key is held in `_ApiKey`, whose str/repr are masked, and is put on the wire only as
the Authorization header; no message this module writes contains it.
"""

import asyncio
import logging
import random
import re
import time
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Literal, Self
from urllib.parse import quote, urlsplit

import httpx
import stamina
from purgatory import AsyncCircuitBreakerFactory, Event
from purgatory.domain.model import OpenedState

from graphql_api.telemetry.metrics import record_breaker_state, record_upstream_call
from graphql_api.upstream.budget import CallBudget
from graphql_api.upstream.config import PensionClientConfig
from graphql_api.upstream.errors import (
    InvalidMemberNumberError,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamNotFound,
    UpstreamUnavailable,
)
from graphql_api.upstream.member_document import UpstreamMember, parse_member

logger = logging.getLogger(__name__)

_CIRCUIT = "pension-provider"
_CIRCUIT_OPEN = "pension provider circuit is open"
_MEMBER_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
# Printable ASCII without spaces: anything else could not go into a header, and httpx's
# encoding error would echo the key in its repr.
_API_KEY = re.compile(r"[!-~]{1,512}")


class _ApiKey:
    """The provider API key; str() and repr() never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "_ApiKey('***')"

    __str__ = __repr__


class _TransientError(Exception):
    """One failed attempt worth retrying; `retry_after` overrides the backoff (429)."""

    def __init__(
        self, reason: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.retry_after = retry_after


def _exponential_backoff(config: PensionClientConfig, attempt: int) -> float:
    """The wait after failed attempt number `attempt` (1-based): stamina's own formula, so the
    budget can see it before the sleep starts."""
    jitter = random.uniform(0, config.backoff_jitter)
    try:
        return min(config.backoff_max, config.backoff_initial * 2.0 ** (attempt - 1) + jitter)
    except OverflowError:
        return config.backoff_max


def parse_retry_after(value: str | None, cap: float) -> float | None:
    """Seconds to wait per a Retry-After header (delta-seconds or HTTP-date), clamped to
    [0, cap]; None when absent or unparseable (the normal backoff then applies)."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), cap)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(when.timestamp() - time.time(), 0.0), cap)


def _validate_member_number(member_number: str) -> str:
    if not isinstance(member_number, str) or not _MEMBER_NUMBER.fullmatch(member_number):
        raise InvalidMemberNumberError(
            "member number must be 1-32 characters of letters, digits, '.', '_' or '-'"
        )
    return member_number


def _validate_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("pension provider base URL must be an absolute http(s) URL")
    if parts.username or parts.password:
        # Credentials in the URL would end up in reprs and logs; the key goes in a header.
        raise ValueError("pension provider base URL must not contain credentials")
    return base_url.rstrip("/")


class PensionClient:
    """Client for the pension provider. Create one per application (the circuit breaker state
    lives in the instance) and close it with `aclose()` or `async with`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        config: PensionClientConfig | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not _API_KEY.fullmatch(api_key):
            raise ValueError("pension provider API key must be 1-512 printable ASCII characters")
        self._base_url = _validate_base_url(base_url)
        self._api_key = _ApiKey(api_key)
        self.config = config or PensionClientConfig()
        cfg = self.config
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            timeout=httpx.Timeout(
                connect=cfg.connect_timeout,
                read=cfg.read_timeout,
                write=cfg.read_timeout,
                pool=cfg.connect_timeout,
            ),
            transport=transport,
            follow_redirects=False,
        )
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=cfg.breaker_threshold,
            default_ttl=cfg.breaker_cooldown,
            # The provider answered (404) or nobody waits for the answer any more (cancel).
            exclude=[UpstreamNotFound, InvalidMemberNumberError, asyncio.CancelledError],
        )
        self._breakers.add_listener(_log_breaker_event)
        record_breaker_state(_CIRCUIT, "closed")

    def __repr__(self) -> str:
        return f"PensionClient(base_url={self._base_url!r}, config={self.config!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled HTTP connections."""
        await self._http.aclose()

    async def breaker_state(self) -> Literal["opened", "closed", "half-opened"]:
        """The circuit breaker's state, for health checks and tests."""
        breaker = await self._breakers.get_breaker(_CIRCUIT)
        return breaker.context.state

    async def get_member(
        self, member_number: str, *, deadline: float | None = None
    ) -> UpstreamMember:
        """Fetch one member, all attempts and backoff over by `deadline` (event-loop time,
        `asyncio.get_running_loop().time()`; None: only the configured limits apply).

        Raises `UpstreamNotFound` (404), `UpstreamAuthError` (401/403), `UpstreamBadResponse`
        (off-contract answer) or `UpstreamUnavailable` (retries or time exhausted, or circuit
        open); `InvalidMemberNumberError` before any call for a malformed number. Each call
        is counted, by outcome, in the upstream metrics (graphql_api/telemetry/metrics.py)."""
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await self._get_member(member_number, deadline)
        except BaseException as exc:
            outcome = _call_outcome(exc)
            raise
        finally:
            record_upstream_call(_CIRCUIT, outcome, time.perf_counter() - started)

    async def _get_member(self, member_number: str, deadline: float | None) -> UpstreamMember:
        number = _validate_member_number(member_number)
        budget = CallBudget(self.config, deadline)
        if not budget.allows_attempt():
            # Not the provider's fault: it is not asked, and the breaker does not hear of it.
            raise UpstreamUnavailable(
                "no time left to ask the pension provider before the deadline", attempts=0
            )
        breaker = await self._breakers.get_breaker(_CIRCUIT)
        try:
            async with breaker:
                return await self._fetch_with_retries(number, budget)
        except OpenedState as exc:
            # purgatory raises the same OpenedState instance on every refused call; drop its
            # traceback so it does not grow with each raise.
            exc.with_traceback(None)
            wait = max(exc.opened_at + breaker.context.ttl - time.time(), 0.0)
            raise UpstreamUnavailable(
                f"{_CIRCUIT_OPEN}; calls resume in {wait:.1f}s", attempts=0
            ) from None

    async def _fetch_with_retries(self, number: str, budget: CallBudget) -> UpstreamMember:
        cfg = self.config
        attempts = 0

        def retry_hook(exc: Exception) -> bool | float:
            # stamina calls this with every exception: a float = retry after exactly that
            # many seconds, False = give up and re-raise at once.
            if not isinstance(exc, _TransientError) or attempts >= cfg.max_attempts:
                return False
            wanted = exc.retry_after
            if wanted is None:
                wanted = _exponential_backoff(cfg, attempts)
            wait = budget.wait_before_retry(wanted)
            return False if wait is None else wait

        left = budget.left()
        try:
            async for attempt in stamina.retry_context(
                on=retry_hook,
                attempts=cfg.max_attempts,
                # Also an outer bound in stamina's terms; the budget above is the strict one.
                timeout=None if left is None else max(left, 0.001),
            ):
                with attempt:
                    attempts = attempt.num
                    return await self._fetch_once(number, budget)
        except _TransientError as exc:
            out_of_time = "; out of time before the deadline" if budget.exhausted else ""
            raise UpstreamUnavailable(
                f"pension provider unavailable after {attempts} attempt(s): "
                f"{exc.reason}{out_of_time}",
                attempts=attempts,
                status_code=exc.status_code,
            ) from exc
        except UpstreamError as exc:
            exc.attempts = attempts
            raise
        raise AssertionError("unreachable: stamina either returns or raises")

    async def _fetch_once(self, number: str, budget: CallBudget) -> UpstreamMember:
        url = f"/members/{quote(number, safe='')}"
        headers = {
            "Authorization": f"Bearer {self._api_key.reveal()}",
            "Accept": "application/json",
        }
        timeout = budget.attempt_timeout()
        try:
            # httpx's timeouts bound each network operation; a provider trickling bytes could
            # still outlast them, so the deadline also bounds the attempt as a whole.
            async with asyncio.timeout_at(budget.deadline):
                async with self._http.stream(
                    "GET", url, headers=headers, timeout=timeout
                ) as response:
                    body = await self._body_or_raise(response, number)
        except TimeoutError as exc:
            self._log_attempt_failure(number, "deadline reached during the attempt")
            raise _TransientError("deadline reached during the attempt") from exc
        except httpx.TimeoutException as exc:
            self._log_attempt_failure(number, f"timeout ({type(exc).__name__})")
            raise _TransientError(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            self._log_attempt_failure(number, f"transport error ({type(exc).__name__})")
            raise _TransientError(f"connection failed ({type(exc).__name__})") from exc
        return parse_member(body, number)

    async def _body_or_raise(self, response: httpx.Response, number: str) -> bytes:
        status = response.status_code
        if status == httpx.codes.OK:
            return await self._read_capped(response)
        if status == httpx.codes.NOT_FOUND:
            raise UpstreamNotFound(f"pension provider has no member {number}", status_code=status)
        if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            raise UpstreamAuthError(
                f"pension provider rejected the API key (HTTP {status})", status_code=status
            )
        if status == httpx.codes.TOO_MANY_REQUESTS or status >= 500:
            self._log_attempt_failure(number, f"HTTP {status}")
            retry_after = None
            if status == httpx.codes.TOO_MANY_REQUESTS:
                retry_after = parse_retry_after(
                    response.headers.get("Retry-After"), self.config.retry_after_max
                )
            raise _TransientError(f"HTTP {status}", status_code=status, retry_after=retry_after)
        raise UpstreamBadResponse(
            f"pension provider answered unexpected HTTP {status}", status_code=status
        )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        limit = self.config.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise UpstreamBadResponse(
                    f"pension provider response is larger than {limit} bytes", status_code=200
                )
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _log_attempt_failure(number: str, reason: str) -> None:
        logger.warning("pension provider attempt failed for %s: %s", number, reason)


_OUTCOMES: tuple[tuple[type[BaseException], str], ...] = (
    (UpstreamNotFound, "not_found"),
    (UpstreamAuthError, "auth_error"),
    (UpstreamBadResponse, "bad_response"),
    (InvalidMemberNumberError, "invalid_request"),
    (asyncio.CancelledError, "cancelled"),
)


def _call_outcome(error: BaseException) -> str:
    """The `outcome` of a failed call in finance_api_upstream_calls_total."""
    for kind, outcome in _OUTCOMES:
        if isinstance(error, kind):
            return outcome
    if isinstance(error, UpstreamUnavailable):
        if error.attempts:
            return "unavailable"
        return "circuit_open" if error.message.startswith(_CIRCUIT_OPEN) else "no_time"
    return "error"


def _log_breaker_event(circuit: str, event_name: str, event: Event) -> None:
    if event_name == "state_changed":
        state = getattr(event, "state", "?")
        record_breaker_state(circuit, str(state))
        level = logging.WARNING if state == "opened" else logging.INFO
        logger.log(level, "circuit breaker %s is now %s", circuit, state)
