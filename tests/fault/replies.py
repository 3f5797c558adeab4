"""What the API answered, sorted into the only outcomes a fault may produce: a success, or a
typed 503 (SERVICE_UNAVAILABLE with Retry-After and X-Request-ID, as JSON). Anything else
(a plain 500, a masked INTERNAL_SERVER_ERROR, a timeout, a dropped connection) is a failure
and keeps enough of the exchange to be reported."""

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import httpx

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
Kind = Literal["ok", "unavailable", "failure"]


@dataclass(frozen=True)
class Reply:
    kind: Kind
    started: float  # time.monotonic() when sent
    seconds: float
    status: int | None  # None: no HTTP response at all
    code: str | None  # errors[0].extensions.code, when there is one
    detail: str  # why it is a failure (with the body), else ""
    data: Any = None

    @property
    def ended(self) -> float:
        return self.started + self.seconds

    def describe(self) -> str:
        return (
            f"{self.kind} status={self.status} code={self.code} {self.seconds:.2f}s {self.detail}"
        )


SuccessCheck = Callable[[Any], str | None]  # data -> why it is not a success, or None


def send(
    client: httpx.Client,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    is_success: SuccessCheck | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    started = time.monotonic()
    try:
        response = client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
    except httpx.HTTPError as error:
        return no_response(error, started)
    return classify(response, started, time.monotonic() - started, is_success)


def no_response(error: Exception, started: float, seconds: float | None = None) -> Reply:
    """A request that got no HTTP response: refused or dropped connection, client timeout."""
    seconds = time.monotonic() - started if seconds is None else seconds
    return Reply("failure", started, seconds, None, None, f"{type(error).__name__}: {error!r}")


def classify(
    response: httpx.Response,
    started: float,
    seconds: float,
    is_success: SuccessCheck | None = None,
) -> Reply:
    body = _json(response)
    errors = (body or {}).get("errors") or []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    code = (first.get("extensions") or {}).get("code")

    def reply(kind: Kind, detail: str = "", data: Any = None) -> Reply:
        return Reply(kind, started, seconds, response.status_code, code, detail, data)

    if response.status_code == 503:
        problem = _unavailable_problem(response, body, code)
        return (
            reply("failure", f"{problem}: {_snippet(response)}")
            if problem
            else reply("unavailable")
        )
    if response.status_code != 200 or body is None or errors or body.get("data") is None:
        return reply("failure", _snippet(response))
    problem = is_success(body["data"]) if is_success else None
    if problem:
        return reply("failure", f"{problem}: {_snippet(response)}")
    return reply("ok", data=body["data"])


def _unavailable_problem(response: httpx.Response, body: Any, code: str | None) -> str | None:
    if body is None:
        return "503 without a JSON body"
    if code != SERVICE_UNAVAILABLE:
        return f"503 with code {code!r}"
    retry_after = response.headers.get("Retry-After", "")
    if not retry_after.isdigit():
        return f"503 without a numeric Retry-After ({retry_after!r})"
    if not response.headers.get("X-Request-ID"):
        return "503 without X-Request-ID"
    return None


def _json(response: httpx.Response) -> Any:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _snippet(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.text[:300]!r}"


def failures(replies: Iterable[Reply]) -> list[str]:
    return [reply.describe() for reply in replies if reply.kind == "failure"]


def tally(replies: Iterable[Reply]) -> dict[str, int]:
    """e.g. {"200": 120, "503 SERVICE_UNAVAILABLE": 14}."""
    return dict(
        Counter(f"{r.status or 'no response'}{' ' + r.code if r.code else ''}" for r in replies)
    )
