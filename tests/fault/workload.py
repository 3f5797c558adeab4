"""Client load for the faults: nested reads and idempotent loan applications from a few
threads, each write retried with the SAME idempotency key until it is acknowledged."""

import base64
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from tests.fault.replies import Reply, send

APPLY_FOR_LOAN = """
mutation Apply($input: ApplyForLoanInput!) {
  applyForLoan(input: $input) {
    loanApplication { id decision }
    userErrors { code message }
  }
}"""

NESTED_MEMBERS = """
{ members(first: 10) { edges { node {
    memberNumber fullName
    pensionAccount { contributionBalance }
    loanApplications(first: 5) { edges { node { amount decision riskScore } } }
    portfolios(first: 5) { edges { node { amountUsd latestRecommendation { modelName } } } }
    predictions(first: 5) { edges { node { sentiment confidence } } }
} } } }"""

SIMPLE_QUERY = "{ members(first: 1) { edges { node { memberNumber } } } }"
LOAN_MEMBER = "M-100001"
_RETRY_PAUSE_SECONDS = 0.25
_READ_PAUSE_SECONDS = 0.05


def api_client(base_url: str, token: str, timeout: float) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, timeout=timeout, headers={"Authorization": f"Bearer {token}"}
    )


def loan_row_id(global_id: str) -> int:
    type_name, _, row_id = base64.b64decode(global_id).decode().partition(":")
    assert type_name == "LoanApplication", global_id
    return int(row_id)


def loan_created(data: Any) -> str | None:
    payload = data["applyForLoan"]
    if payload["userErrors"] or not payload["loanApplication"]:
        return f"applyForLoan refused: {payload['userErrors']}"
    return None


def members_listed(data: Any) -> str | None:
    return None if data["members"]["edges"] else "no members listed"


@dataclass(frozen=True)
class Ack:
    key: str
    amount: str
    loan_id: int


@dataclass
class LoanKeys:
    """Unique idempotency keys, each with its own amount: a duplicate row for one key shows
    up as two loan rows with that amount."""

    prefix: str = field(default_factory=lambda: f"fault-{secrets.token_hex(4)}")
    _counter: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> tuple[str, str]:
        with self._lock:
            sequence = next(self._counter)
        return f"{self.prefix}-{sequence}", str(
            Decimal(10_000 + sequence).quantize(Decimal("0.01"))
        )


def loan_input(key: str, amount: str) -> dict[str, Any]:
    return {
        "input": {
            "memberNumber": LOAN_MEMBER,
            "amount": amount,
            "income": "90000.00",
            "employmentYears": 6,
            "idempotencyKey": key,
        }
    }


class MixedLoad:
    """Reader and writer threads against one API until `stop()`; a writer then finishes the
    key it is on (retrying until acknowledged, or until `give_up_after` seconds)."""

    def __init__(
        self, base_url: str, token: str, *, readers: int = 2, writers: int = 2, timeout: float
    ) -> None:
        self.base_url, self.token, self.timeout = base_url, token, timeout
        self.reads: list[Reply] = []
        self.writes: list[Reply] = []
        self.acks: list[Ack] = []
        self.retried_keys: set[str] = set()
        self.abandoned_keys: list[str] = []
        self.keys = LoanKeys()
        self._stop = threading.Event()
        self._give_up = threading.Event()
        self._threads = [threading.Thread(target=self._read, daemon=True) for _ in range(readers)]
        self._threads += [threading.Thread(target=self._write, daemon=True) for _ in range(writers)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, give_up_after: float) -> None:
        self._stop.set()
        deadline = time.monotonic() + give_up_after
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._give_up.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)
        assert not any(t.is_alive() for t in self._threads), "a client thread hung"

    @property
    def replies(self) -> list[Reply]:
        return self.reads + self.writes

    def _read(self) -> None:
        with api_client(self.base_url, self.token, self.timeout) as client:
            while not self._stop.is_set():
                self.reads.append(send(client, NESTED_MEMBERS, is_success=members_listed))
                time.sleep(_READ_PAUSE_SECONDS)

    def _write(self) -> None:
        with api_client(self.base_url, self.token, self.timeout) as client:
            while not self._stop.is_set():
                self._apply_until_acknowledged(client, *self.keys.next())

    def _apply_until_acknowledged(self, client: httpx.Client, key: str, amount: str) -> None:
        for attempt in itertools.count(1):
            reply = send(
                client,
                APPLY_FOR_LOAN,
                loan_input(key, amount),
                is_success=loan_created,
                headers={"X-Request-ID": f"{key}-attempt-{attempt}"},
            )
            self.writes.append(reply)
            if reply.kind == "ok":
                loan_id = loan_row_id(reply.data["applyForLoan"]["loanApplication"]["id"])
                self.acks.append(Ack(key, amount, loan_id))
                return
            self.retried_keys.add(key)
            if self._give_up.is_set():
                self.abandoned_keys.append(key)
                return
            time.sleep(_RETRY_PAUSE_SECONDS)
