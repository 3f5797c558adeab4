"""What keeps the floor honest: both targets must return equal documents before any timing."""

import difflib
import json
from collections import Counter
from dataclasses import dataclass
from random import Random
from typing import Any

import httpx

from graphql_api.bench.load import HEADERS
from graphql_api.bench.queries import Scenario

MISSING_MEMBER = "S-NOT-A-MEMBER"  # agentContext must be null on both sides
MAX_DIFF_LINES = 80


class ParityError(Exception):
    """The API and the floor disagree; the message holds a readable diff."""


@dataclass(frozen=True)
class ParityReport:
    requests: int
    lending_actions: dict[str, int]

    def summary(self) -> str:
        actions = ", ".join(f"{k} x{v}" for k, v in sorted(self.lending_actions.items()))
        return f"{self.requests} requests identical on both targets (lending actions: {actions})"


def parity_bodies(
    scenario: Scenario, member_numbers: list[str], samples: int, seed: int
) -> list[dict[str, Any]]:
    if not scenario.per_member:
        return [scenario.body()]
    chosen = Random(seed).sample(member_numbers, min(samples, len(member_numbers)))
    return [scenario.body(number) for number in [*chosen, MISSING_MEMBER]]


def check_parity(
    api_url: str, floor_url: str, scenarios: list[Scenario], member_numbers: list[str], *,
    samples: int = 20, seed: int = 42,
) -> ParityReport:  # fmt: skip
    actions: Counter[str] = Counter()
    requests = 0
    with httpx.Client(timeout=60.0, trust_env=False, headers=HEADERS) as client:
        for scenario in scenarios:
            for body in parity_bodies(scenario, member_numbers, samples, seed):
                api = _fetch(client, api_url, body, "API")
                floor = _fetch(client, floor_url, body, "floor")
                if api["data"] != floor["data"]:
                    raise ParityError(_describe(scenario, body, api["data"], floor["data"]))
                actions.update(_lending_actions(api["data"]))
                requests += 1
    return ParityReport(requests, dict(actions))


def _fetch(client: httpx.Client, url: str, body: dict[str, Any], name: str) -> dict[str, Any]:
    response = client.post(url, json=body)
    if response.status_code != 200:
        raise ParityError(f"{name} answered HTTP {response.status_code}: {response.text[:500]}")
    document: dict[str, Any] = response.json()
    if document.get("errors") or "data" not in document:
        raise ParityError(f"{name} returned errors: {json.dumps(document.get('errors'))[:1000]}")
    return document


def _describe(scenario: Scenario, body: dict[str, Any], api: Any, floor: Any) -> str:
    def lines(document: Any) -> list[str]:
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False).splitlines()

    diff = list(difflib.unified_diff(lines(api), lines(floor), "api", "floor", n=3, lineterm=""))
    shown = "\n".join(diff[:MAX_DIFF_LINES])
    more = (
        f"\n... {len(diff) - MAX_DIFF_LINES} more diff lines" if len(diff) > MAX_DIFF_LINES else ""
    )
    return (
        f"parity check failed for {scenario.name} with variables {body['variables']}:"
        f" the floor does not serve the same document as the API\n{shown}{more}"
    )


def _lending_actions(data: Any) -> list[str]:
    """Every lendingAssessment.action in a document: shows which rule branches were compared."""
    found: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            assessment = item.get("lendingAssessment")
            if isinstance(assessment, dict):
                found.append(str(assessment.get("action")))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
