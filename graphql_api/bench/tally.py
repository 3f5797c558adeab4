"""What the load driver counts in one phase, and how it checks responses cheaply.

Every response: status 200, or an error. Every body: its head and tail are scanned for
`"errors"` (a top-level key sits first, as the spec suggests, or right after "data" and
before the small "extensions", as strawberry writes it). Decoded in full: the first
response, every Nth (`check_every`; N x 4 for a 256 kB body), at least one every 5 s (so
slow scenarios still give samples), and any short body whose scan found "errors". A long
body that was not kept counts as failed when its head or tail holds an errors list
(`"errors": [{`).
"""

import re
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson

from graphql_api.bench.rawhttp import SHORT_BODY_BYTES, TAIL_BYTES, Response

ERRORS_MARKER = b'"errors"'
ERRORS_LIST = re.compile(rb'"errors"\s*:\s*\[\s*\{')
SAMPLE_INTERVAL_SECONDS = 5.0


@dataclass
class Tally:
    """One phase's counts. Requests are taken round-robin from `requests` from `offset` on."""

    requests: list[bytes]
    deadline: float
    max_requests: int
    check_every: int = 100
    offset: int = 0
    issued: int = 0
    heads: int = 0
    since_sample: int = 0
    errors: int = 0
    checked: int = 0
    next_sample_at: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    plans: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)

    def may_issue(self) -> bool:
        return self.issued < self.max_requests and time.perf_counter() < self.deadline

    def next_request(self) -> bytes | None:
        if not self.may_issue():
            return None
        request = self.requests[(self.offset + self.issued) % len(self.requests)]
        self.issued += 1
        return request

    def wants_body(self, length: int) -> bool:
        """Asked as a response's head arrives: keep its whole body, to decode it?

        Long bodies are sampled less often (decoding 400 kB costs as much as serving it).
        """
        self.heads += 1
        self.since_sample += 1
        interval = self.check_every * max(1, length // SHORT_BODY_BYTES)
        now = time.perf_counter()
        if self.heads == 1 or self.since_sample >= interval or now >= self.next_sample_at:
            self.since_sample, self.next_sample_at = 0, now + SAMPLE_INTERVAL_SECONDS
            return True
        return False

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message[:300])

    def record(self, latency: float, response: Response) -> None:
        self.latencies.append(latency)
        if response.status != 200:
            self.error(f"HTTP {response.status}: {_text(response.head[:200])}")
        elif response.asked and response.body is not None:
            self._check(response.body)
        elif mentions_errors(response):
            if response.body is not None:
                self._check(response.body)
            else:
                self._check_windows(response)

    def _check_windows(self, response: Response) -> None:
        for window in (response.head, response.tail):
            found = ERRORS_LIST.search(window)
            if found is not None:
                self.error(
                    f"GraphQL errors in a {response.length}-byte body (seen near its start or"
                    f" end, not decoded): {_text(window[found.start() : found.start() + 200])}"
                )
                return

    def _check(self, body: bytes) -> None:
        self.checked += 1
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            self.error(f"not JSON: {_text(body[:200])}")
            return
        if not isinstance(document, dict):
            self.error(f"not a GraphQL response: {_text(body[:200])}")
            return
        if document.get("errors") or document.get("data") is None:
            self.error(f"GraphQL errors: {_text(orjson.dumps(document.get('errors'))[:250])}")
            return
        extensions = document.get("extensions") or {}
        if isinstance(extensions.get("sqlStatements"), int):
            self.statements.append(extensions["sqlStatements"])
        self.plans[str(extensions.get("plan") or "")] += 1


def mentions_errors(response: Response) -> bool:
    """Whether the body's head or tail holds `"errors"` (the whole body, when short)."""
    return ERRORS_MARKER in response.tail or (
        response.length > TAIL_BYTES and ERRORS_MARKER in response.head
    )


def _text(data: bytes) -> str:
    return data.decode(errors="replace")
