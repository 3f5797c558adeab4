"""Async client for the upstream pension provider: `GET {base}/members/{memberNumber}`.

Resilience, from the outside in:

* a circuit breaker (purgatory) around each call: after `breaker_threshold` consecutive failed
  calls it fails fast with `UpstreamUnavailable` and no HTTP attempt for `breaker_cooldown`
  seconds, then lets a trial call through (success closes it, failure re-opens it). A 404 or a
  cancelled call is not a failure of the provider and does not count;
* retries (stamina) inside one call: up to `max_attempts` HTTP attempts with jittered
  exponential backoff on connection errors, timeouts, 5xx and 429. stamina's `on=` hook may
  return a float, which replaces the backoff: that is how a 429's Retry-After is honoured;
* httpx connect/read timeouts on every attempt.

The API key is held in `_ApiKey`, whose str/repr are masked, and is put on the wire only as
the Authorization header; no message this module writes contains it.
"""

import asyncio
import logging
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

from graphql_api.upstream.config import PensionClientConfig
from graphql_api.upstream.errors import (
    InvalidMemberNumberError,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamNotFound,
    UpstreamUnavailable,
)
from graphql_api.upstream.schema import UpstreamMember, parse_member

logger = logging.getLogger(__name__)

_CIRCUIT = "pension-provider"
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


def _retry_hook(exc: Exception) -> bool | float:
    # stamina calls this with every exception: True = retry with the usual backoff, a float =
    # retry after exactly that many seconds, False = give up and re-raise at once.
    if isinstance(exc, _TransientError):
        return exc.retry_after if exc.retry_after is not None else True
    return False


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

    async def get_member(self, member_number: str) -> UpstreamMember:
        """Fetch one member. Raises `UpstreamNotFound` (404), `UpstreamAuthError` (401/403),
        `UpstreamBadResponse` (off-contract answer) or `UpstreamUnavailable` (retries exhausted
        or circuit open); `InvalidMemberNumberError` before any call for a malformed number."""
        number = _validate_member_number(member_number)
        breaker = await self._breakers.get_breaker(_CIRCUIT)
        try:
            async with breaker:
                return await self._fetch_with_retries(number)
        except OpenedState as exc:
            # purgatory raises the same OpenedState instance on every refused call; drop its
            # traceback so it does not grow with each raise.
            exc.with_traceback(None)
            wait = max(exc.opened_at + breaker.context.ttl - time.time(), 0.0)
            raise UpstreamUnavailable(
                f"pension provider circuit is open; calls resume in {wait:.1f}s", attempts=0
            ) from None

    async def _fetch_with_retries(self, number: str) -> UpstreamMember:
        cfg = self.config
        attempts = 0
        try:
            async for attempt in stamina.retry_context(
                on=_retry_hook,
                attempts=cfg.max_attempts,
                timeout=cfg.total_timeout,
                wait_initial=cfg.backoff_initial,
                wait_max=cfg.backoff_max,
                wait_jitter=cfg.backoff_jitter,
            ):
                with attempt:
                    attempts = attempt.num
                    return await self._fetch_once(number)
        except _TransientError as exc:
            raise UpstreamUnavailable(
                f"pension provider unavailable after {attempts} attempt(s): {exc.reason}",
                attempts=attempts,
                status_code=exc.status_code,
            ) from exc
        except UpstreamError as exc:
            exc.attempts = attempts
            raise
        raise AssertionError("unreachable: stamina either returns or raises")

    async def _fetch_once(self, number: str) -> UpstreamMember:
        url = f"/members/{quote(number, safe='')}"
        headers = {
            "Authorization": f"Bearer {self._api_key.reveal()}",
            "Accept": "application/json",
        }
        try:
            async with self._http.stream("GET", url, headers=headers) as response:
                body = await self._body_or_raise(response, number)
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


def _log_breaker_event(circuit: str, event_name: str, event: Event) -> None:
    if event_name == "state_changed":
        state = getattr(event, "state", "?")
        level = logging.WARNING if state == "opened" else logging.INFO
        logger.log(level, "circuit breaker %s is now %s", circuit, state)
