"""Mutation plumbing: inputs validated into commands, one transaction with idempotency,
refusals reported as `userErrors`, fresh loaders so payloads show the new state."""

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from graphql_api.context import Info
from graphql_api.graph.enums import ErrorCode  # registered there, with value descriptions
from graphql_api.graph.mapping import RowBacked
from graphql_api.graph.resolve import load_by_key
from graphql_api.kit.batch_queries import ByKey
from graphql_api.kit.commands import CommandInput, RequestMeta
from graphql_api.kit.errors import CommandRefusedError, Problem, refuse
from graphql_api.kit.idempotency import run_idempotent
from graphql_api.kit.text import parse_row_id

CommandT = TypeVar("CommandT", bound=CommandInput)
NodeT = TypeVar("NodeT", bound=RowBacked)


# A payload lists at most this many user errors (every list has a cap; see security/cost.py).
MAX_USER_ERRORS = 50


@strawberry.type(description="An expected reason a mutation did not happen. Nothing was written.")
class UserError:
    code: ErrorCode = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable explanation.")
    field: list[str] | None = strawberry.field(
        description='Path to the offending input field, e.g. ["input", "amount"].'
    )

    @classmethod
    def from_problem(cls, problem: Problem) -> "UserError":
        path = ["input", *(to_camel_case(part) for part in problem.field)]
        return cls(
            code=problem.code, message=problem.message, field=path if problem.field else None
        )


@dataclass(frozen=True)
class Outcome:
    result_id: int | None
    user_errors: list[UserError]

    async def load(self, info: Info, spec: ByKey, node_type: type[NodeT]) -> NodeT | None:
        if self.result_id is None:
            return None
        return await load_by_key(info, spec, self.result_id, node_type)


def input_data(graphql_input: object) -> dict[str, Any]:
    """A strawberry input as plain data for the command model (snake_case keys)."""
    return {f.name: getattr(graphql_input, f.name) for f in dataclasses.fields(graphql_input)}  # type: ignore[arg-type]


async def run_mutation(
    info: Info,
    *,
    operation: str,
    command: Callable[[], CommandT],
    work: Callable[[AsyncSession, CommandT, RequestMeta], Awaitable[int]],
) -> Outcome:
    """Validate with `command()`, run `work` in one idempotent transaction, report refusals.

    `work` returns the id of the entity the payload shows; a replayed idempotency key
    returns the first request's id without running `work` at all.
    """
    context = info.context
    meta = RequestMeta(request_id=context.request_id, viewer=context.viewer)
    try:
        parsed = command()
        # The transaction takes its own connection: give back the one reads may hold (an
        # earlier mutation's payload), so the request never holds two.
        await context.db.release()
        result_id = await run_idempotent(
            context.sessionmaker,
            actor=meta.actor,
            operation=operation,
            idempotency_key=getattr(parsed, "idempotency_key", None),
            fingerprint=parsed.fingerprint(operation),
            work=lambda session: work(session, parsed, meta),
        )
    except CommandRefusedError as refused:
        problems = refused.problems[:MAX_USER_ERRORS]
        return Outcome(None, [UserError.from_problem(p) for p in problems])
    # Committed: later reads in this request must not see what loaders cached before.
    context.refresh_loaders()
    return Outcome(result_id, [])


IDEMPOTENCY_KEY_DESCRIPTION = (
    "1 to 200 characters. A retry with the same key and input returns the first result and"
    " writes nothing; the same key with other input is refused."
)


def row_id(global_id: str, node_type: type, *field: str) -> int:
    """The database id inside a Relay global id of `node_type`. An id that is malformed, of
    another type, or cannot name a row is refused as NOT_FOUND on `field`, like an unknown id:
    a user error with nothing written, not a GraphQL error."""
    type_name = get_object_definition(node_type, strict=True).name
    try:
        decoded = relay.GlobalID.from_id(global_id)
    except relay.GlobalIDValueError:
        decoded = None
    if decoded is None or decoded.type_name != type_name or parse_row_id(decoded.node_id) is None:
        raise refuse(ErrorCode.NOT_FOUND, f"No {type_name.lower()} with this id.", *field)
    return int(decoded.node_id)


def idempotency_key_field() -> Any:
    return strawberry.field(default=None, description=IDEMPOTENCY_KEY_DESCRIPTION)


def user_errors_field() -> Any:
    return strawberry.field(
        description=f"Why nothing was written (at most {MAX_USER_ERRORS}); empty on success."
    )
