"""The authorization policy: what a viewer may do, which rows it may read, what it sees masked.

Transport-neutral and the only copy: services call `require(viewer, action)`; the GraphQL
layer derives its `@roles` guards from `roles_for`; subscriptions filter every event with
`can` and `row_filter`; the MCP tools name an action each. Nothing here imports strawberry,
fastapi or mcp.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, select, true

from graphql_api.auth.service import Viewer
from graphql_api.kit.errors import CommandRefusedError, ErrorCode, Problem
from graphql_api.models import (
    AuditLog,
    Feedback,
    Member,
    Portfolio,
    Prediction,
    Recommendation,
    Role,
)


class Action(StrEnum):
    """Something a viewer may ask for, whichever transport it comes through."""

    READ_MEMBERS = "members.read"
    # Any row by its global id (Relay `node`); each type's row filter still applies.
    READ_NODE = "node.read"
    READ_LENDING = "lending.read"
    READ_PREDICTIONS = "predictions.read"
    READ_AUDIT = "audit.read"
    READ_MODEL_PERFORMANCE = "predictions.performance"
    CREATE_MEMBER = "members.create"
    SYNC_MEMBER = "members.sync"
    APPLY_FOR_LOAN = "lending.apply"
    REQUEST_RECOMMENDATION = "portfolios.request"
    RECORD_RECOMMENDATION = "portfolios.record"
    PREDICT_SENTIMENT = "predictions.predict"
    SUBMIT_FEEDBACK = "predictions.feedback"


EVERYONE = frozenset(Role)
STAFF = frozenset({Role.ADMIN, Role.ADVISOR})
STAFF_AND_AGENTS = STAFF | {Role.AGENT}

ALLOWED: dict[Action, frozenset[Role]] = {
    # Row filters narrow these for MEMBER keys to their own member's rows.
    Action.READ_MEMBERS: EVERYONE,
    Action.READ_NODE: EVERYONE,
    Action.READ_LENDING: EVERYONE,
    Action.READ_PREDICTIONS: EVERYONE,
    # Compliance reads the whole log; a member reads its own trail; agents do not browse it.
    Action.READ_AUDIT: STAFF | {Role.MEMBER},
    # Aggregates across all members' predictions.
    Action.READ_MODEL_PERFORMANCE: STAFF_AND_AGENTS,
    Action.CREATE_MEMBER: STAFF,
    Action.SYNC_MEMBER: STAFF,
    Action.APPLY_FOR_LOAN: STAFF_AND_AGENTS,
    Action.REQUEST_RECOMMENDATION: STAFF_AND_AGENTS,
    Action.RECORD_RECOMMENDATION: STAFF_AND_AGENTS,
    Action.PREDICT_SENTIMENT: STAFF_AND_AGENTS,
    # Members may judge their own predictions (the row filter refuses anyone else's).
    Action.SUBMIT_FEEDBACK: EVERYONE,
}

# Models whose rows need an action of their own: a viewer without it reads none of them by any
# path (its root list is refused; `node` and nested connections find no rows).
READ_ACTION_OF: dict[type[Any], Action] = {AuditLog: Action.READ_AUDIT}

# Fields shown masked to some roles: (model, attribute) -> the roles that see them masked.
# Agents act for many members and need to know an email exists, not what it is.
MASKED: dict[tuple[type[Any], str], frozenset[Role]] = {
    (Member, "email"): frozenset({Role.AGENT}),
}

FORBIDDEN_MESSAGE = "Your API key's role may not do this."


class ForbiddenError(CommandRefusedError):
    """`require` refused: transports report it with the code FORBIDDEN."""

    def __init__(self, action: Action) -> None:
        super().__init__(Problem(ErrorCode.FORBIDDEN, FORBIDDEN_MESSAGE))
        self.action = action


def roles_for(action: Action) -> frozenset[Role]:
    return ALLOWED[action]


def can(viewer: Viewer | None, action: Action) -> bool:
    """Whether `viewer` may do `action` at all (rows are narrowed by `row_filter`)."""
    return viewer is not None and viewer.role in ALLOWED[action]


def require(viewer: Viewer | None, action: Action) -> None:
    if not can(viewer, action):
        raise ForbiddenError(action)


def masked_for(model: type[Any], attribute: str) -> frozenset[Role]:
    return MASKED.get((model, attribute), frozenset())


def sees_masked(viewer: Viewer | None, model: type[Any], attribute: str) -> bool:
    return viewer is not None and viewer.role in masked_for(model, attribute)


def member_scope(viewer: Viewer | None) -> int | None:
    """The only member whose rows `viewer` may read; None: no member restriction. Says
    nothing about a missing viewer (which reads no rows at all): use `read_scope`."""
    return viewer.member_id if viewer is not None else None


@dataclass(frozen=True)
class RowScope:
    """What one viewer may read, as plain data: loaders and the compiled read path carry it
    instead of the viewer. Only `read_scope` builds one."""

    # Only this member's rows (a MEMBER key); None: every member's.
    member_id: int | None = None
    # Models of which not one row may be read.
    unreadable: frozenset[type[Any]] = frozenset()
    # No viewer at all: not one row of any model (fail closed, whoever forgot to authenticate).
    nothing: bool = False

    @property
    def unrestricted(self) -> bool:
        return not self.nothing and self.member_id is None and not self.unreadable

    @property
    def shape(self) -> tuple[bool, bool, frozenset[type[Any]]]:
        """Everything but the member's id: what the text of a compiled statement depends on
        (the member itself is a bound value)."""
        return self.nothing, self.member_id is not None, self.unreadable

    def may_read(self, model: type[Any]) -> bool:
        """Whether any row of `model` may be read at all (`row_filter` narrows which)."""
        return not self.nothing and model not in self.unreadable

    def row_filter(self, model: type[Any]) -> ColumnElement[bool]:
        if not self.may_read(model):
            return false()
        return owned_by(model, self.member_id)


# What a request without a viewer reads: nothing. Every transport authenticates before it
# reads; a path that forgot to gets empty answers, never every row.
NO_ROWS = RowScope(nothing=True)


def read_scope(viewer: Viewer | None) -> RowScope:
    """The rows `viewer` may read; no viewer reads none (`NO_ROWS`)."""
    if viewer is None:
        return NO_ROWS
    unreadable = frozenset(
        model for model, action in READ_ACTION_OF.items() if not can(viewer, action)
    )
    return RowScope(member_scope(viewer), unreadable)


def row_filter(viewer: Viewer | None, model: type[Any]) -> ColumnElement[bool]:
    """The SQL condition restricting rows of `model` to those `viewer` may read."""
    return read_scope(viewer).row_filter(model)


def owned_by(model: type[Any], member_id: int | None) -> ColumnElement[bool]:
    """Rows of `model` belonging to member `member_id` (every row when None). Other
    members' rows are never read, rather than read and filtered afterwards."""
    if member_id is None:
        return true()
    if model is Member:
        return Member.id == member_id
    if model is Recommendation:
        return Recommendation.portfolio_id.in_(
            select(Portfolio.id).where(Portfolio.member_id == member_id)
        )
    if model is Feedback:
        return Feedback.prediction_id.in_(
            select(Prediction.id).where(Prediction.member_id == member_id)
        )
    member_column: ColumnElement[Any] | None = getattr(model, "member_id", None)
    if member_column is None:
        raise TypeError(f"no ownership rule for {model.__name__}")
    return member_column == member_id


def may_see_member_row(viewer: Viewer | None, member_id: int | None) -> bool:
    """The row filter for one already-loaded row (e.g. an event): a MEMBER key sees only
    rows of its own member; no viewer sees none, as `read_scope`."""
    if viewer is None:
        return False
    scope = member_scope(viewer)
    return scope is None or scope == member_id
