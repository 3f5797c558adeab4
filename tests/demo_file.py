"""Read the demo data file, the source of truth the read API tests compare against."""

import json
from functools import cache
from typing import Any

from graphql_api.runtime.paths import data_dir


@cache
def demo_members() -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = json.loads((data_dir() / "demo.json").read_text())["members"]
    return members


def newest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item["created_at"], reverse=True)


def richest_member() -> dict[str, Any]:
    """The demo member with the most related rows: exercises every nested field."""

    def weight(member: dict[str, Any]) -> int:
        feedback = sum(len(p.get("feedback", [])) for p in member.get("predictions", []))
        recs = sum(len(p.get("recommendations", [])) for p in member.get("portfolios", []))
        return (
            len(member.get("loan_applications", []))
            + len(member.get("portfolios", []))
            + len(member.get("predictions", []))
            + recs
            + feedback
            + (100 if feedback and recs and member.get("loan_applications") else 0)
        )

    return max(demo_members(), key=weight)
