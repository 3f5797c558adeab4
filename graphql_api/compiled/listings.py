"""The root listings (members, loanApplications, predictions, auditLogs) and their filters in
SQL: the same conditions as each domain's repository (`member_listing`, `loan_listing`,
`prediction_listing`, `audit_listing`), which the differential tests hold them to.

A filter is interpreted into condition tokens (the shape) and bound values; `conditions`
turns the tokens back into SQL for one alias.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql_api import models
from graphql_api.compiled.arguments import Interpreted, Interpreter, page_values
from graphql_api.compiled.base import Fallback
from graphql_api.kit.listing import escape_like
from graphql_api.kit.pagination import Ordering, newest_first
from graphql_api.kit.text import in_timestamptz_range, storable
from graphql_api.members.repository import MEMBER_ORDER
from graphql_api.models import Base

# (alias, bind(value name, SQL type) -> "$n::type") -> condition
Bind = Callable[[str, str], str]
ConditionSql = Callable[[str, Bind], str]
Tokens = tuple[str, ...]


@dataclass(frozen=True)
class ListingSpec:
    model: type[Base]
    ordering: Ordering
    read_filter: Callable[[Mapping[str, Any]], tuple[Tokens, dict[str, Any]]]
    sql: Mapping[str, ConditionSql]

    def interpreter(self) -> Interpreter:
        def interpret(args: Mapping[str, Any]) -> Interpreted:
            has_after, values = page_values(args, self.ordering)
            tokens, filter_values = self.read_filter(args.get("filter") or {})
            return Interpreted(("listing", has_after, tokens), {**values, **filter_values})

        return interpret

    def conditions(self, tokens: Tokens, alias: str, bind: Bind) -> list[str]:
        return [self.sql[token](alias, bind) for token in tokens]


def _nothing(_alias: str, _bind: Bind) -> str:
    return "FALSE"


def _text_equals(column: str, name: str) -> ConditionSql:
    return lambda t, bind: f"{t}.{column} = {bind(name, 'text')}"


def _member_is(t: str, bind: Bind) -> str:
    # member_id_of(): a scalar subquery, unscoped (the listing itself is scoped).
    return (
        f"{t}.member_id = (SELECT id FROM members WHERE member_number = {bind('member', 'text')})"
    )


class _Reader:
    """Collects tokens and values while reading one filter object."""

    def __init__(self, given: Mapping[str, Any]) -> None:
        self.given = given
        self.tokens: list[str] = []
        self.values: dict[str, Any] = {}

    def text(self, key: str, token: str) -> None:
        """text_equals(): a condition whenever given; FALSE for text PostgreSQL can't hold."""
        found = self.given.get(key)
        if found is None:
            return
        if not storable(found):
            self.tokens.append("nothing")
            return
        self.tokens.append(token)
        self.values[token] = found

    def enum(self, key: str, token: str) -> None:
        found = self.given.get(key)
        if found is not None:
            self.tokens.append(token)
            self.values[token] = str(getattr(found, "value", found))

    def instant(self, key: str, token: str) -> None:
        found: datetime | None = self.given.get(key)
        if found is None:
            return
        if not in_timestamptz_range(found):
            raise Fallback(f"{key} outside the supported range")
        self.tokens.append(token)
        self.values[token] = found

    def done(self) -> tuple[Tokens, dict[str, Any]]:
        return tuple(self.tokens), self.values


def _member_filter(given: Mapping[str, Any]) -> tuple[Tokens, dict[str, Any]]:
    reader = _Reader(given)
    statuses = given.get("status")
    if statuses:
        reader.tokens.append("status")
        reader.values["status"] = [str(getattr(s, "value", s)) for s in statuses]
    search = given.get("search")
    if search and not storable(search):
        reader.tokens.append("nothing")
    elif search:
        term = escape_like(search.strip())
        reader.tokens.append("search")
        reader.values.update(prefix=f"{term}%", contains=f"%{term}%")
    return reader.done()


MEMBERS = ListingSpec(
    models.Member,
    MEMBER_ORDER,
    _member_filter,
    {
        "nothing": _nothing,
        "status": lambda t, bind: f"{t}.status = ANY({bind('status', 'text[]')})",
        "search": lambda t, bind: (
            f"({t}.member_number ILIKE {bind('prefix', 'text')}"
            f" OR {t}.full_name ILIKE {bind('contains', 'text')})"
        ),
    },
)


def _loan_filter(given: Mapping[str, Any]) -> tuple[Tokens, dict[str, Any]]:
    reader = _Reader(given)
    reader.enum("decision", "decision")
    reader.text("memberNumber", "member")
    return reader.done()


LOAN_APPLICATIONS = ListingSpec(
    models.LoanApplication,
    newest_first(models.LoanApplication),
    _loan_filter,
    {"nothing": _nothing, "decision": _text_equals("decision", "decision"), "member": _member_is},
)


def _prediction_filter(given: Mapping[str, Any]) -> tuple[Tokens, dict[str, Any]]:
    reader = _Reader(given)
    reader.enum("sentiment", "sentiment")
    reader.text("modelVersion", "model_version")
    reader.text("memberNumber", "member")
    return reader.done()


PREDICTIONS = ListingSpec(
    models.Prediction,
    newest_first(models.Prediction),
    _prediction_filter,
    {
        "nothing": _nothing,
        "sentiment": _text_equals("sentiment", "sentiment"),
        "model_version": _text_equals("model_version", "model_version"),
        "member": _member_is,
    },
)


def _audit_filter(given: Mapping[str, Any]) -> tuple[Tokens, dict[str, Any]]:
    reader = _Reader(given)
    # AuditLogFilter.criteria() checks the instants first; any refusal falls back anyway.
    reader.instant("createdAfter", "created_after")
    reader.instant("createdBefore", "created_before")
    reader.text("memberNumber", "member")
    reader.text("action", "action")
    reader.text("requestId", "request_id")
    return reader.done()


AUDIT_LOGS = ListingSpec(
    models.AuditLog,
    newest_first(models.AuditLog),
    _audit_filter,
    {
        "nothing": _nothing,
        "member": _member_is,
        "action": _text_equals("action", "action"),
        "request_id": _text_equals("request_id", "request_id"),
        "created_after": lambda t, bind: (
            f"{t}.created_at >= {bind('created_after', 'timestamptz')}"
        ),
        "created_before": lambda t, bind: (
            f"{t}.created_at < {bind('created_before', 'timestamptz')}"
        ),
    },
)
