"""Member mutations: createMember, and syncMember from the pension provider."""

import asyncio
from functools import partial
from typing import Annotated

import strawberry

from graphql_api import relation_specs
from graphql_api.context import Info
from graphql_api.graph.enums import MemberStatus
from graphql_api.graph.mutations import (
    Outcome,
    UserError,
    idempotency_key_field,
    input_data,
    run_mutation,
    user_errors_field,
)
from graphql_api.kit.errors import CommandRefusedError
from graphql_api.members import service, sync
from graphql_api.members.types import Member
from graphql_api.security.deadline import request_time_left


@strawberry.input(description="A new member to record.")
class CreateMemberInput:
    member_number: str = strawberry.field(
        description="Business key shared with the pension provider: 1 to 32 letters, digits,"
        " '.', '_' or '-'. Must not be in use."
    )
    full_name: str = strawberry.field(description="Full name, 1 to 200 characters, not blank.")
    email: str = strawberry.field(
        description="Contact email address, at most 320 characters, stored as given. Must not"
        " be in use by another member, ignoring case."
    )
    status: MemberStatus = strawberry.field(description="Initial membership state.")
    idempotency_key: str | None = idempotency_key_field()


@strawberry.type(description="Result of createMember.")
class CreateMemberPayload:
    member: Member | None = strawberry.field(description="The new member; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="Which member to refresh from the pension provider.")
class SyncMemberInput:
    member_number: str = strawberry.field(
        description="The member number the pension provider knows the member by."
    )
    idempotency_key: str | None = idempotency_key_field()


@strawberry.type(description="Result of syncMember.")
class SyncMemberPayload:
    member: Member | None = strawberry.field(
        description="The member as stored after the sync; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class MemberMutation:
    @strawberry.mutation(
        description="Record a new member (no pension account until the first syncMember),"
        " audited as member.created in the same transaction."
    )
    async def create_member(
        self,
        info: Info,
        input: Annotated[CreateMemberInput, strawberry.argument(description="The new member.")],
    ) -> CreateMemberPayload:
        outcome = await run_mutation(
            info,
            operation=service.CREATE_OPERATION,
            command=lambda: service.CreateMemberCommand.parse(input_data(input)),
            work=service.create_member,
        )
        return CreateMemberPayload(
            member=await outcome.load(info, relation_specs.MEMBER_BY_ID, Member),
            user_errors=outcome.user_errors,
        )

    @strawberry.mutation(
        description="Refresh a member from the pension provider: creates the member if new"
        " (email null), updates name, status and pension account, and audits what changed as"
        " member.synced. Nothing is written when the provider fails (UPSTREAM_* errors)."
    )
    async def sync_member(
        self,
        info: Info,
        input: Annotated[SyncMemberInput, strawberry.argument(description="The member to sync.")],
    ) -> SyncMemberPayload:
        outcome = await _sync(info, input)
        return SyncMemberPayload(
            member=await outcome.load(info, relation_specs.MEMBER_BY_ID, Member),
            user_errors=outcome.user_errors,
        )


def _upstream_deadline(info: Info) -> float | None:
    """When the provider call must be over (event-loop time): the request's deadline less a
    margin left for the transaction and the answer; None outside a request with a deadline."""
    left = request_time_left()
    if left is None:
        return None
    margin = info.context.settings.upstream_deadline_margin_seconds
    return asyncio.get_running_loop().time() + left - margin


async def _sync(info: Info, input: SyncMemberInput) -> Outcome:
    """Validate, ask the provider with no transaction open, then store in one transaction."""
    context = info.context
    # Taken first: the idempotency lookup below spends time from the same budget.
    deadline = _upstream_deadline(info)
    try:
        command = sync.SyncMemberCommand.parse(input_data(input))
        upstream = None
        # A claimed key replays (or is refused) in the transaction: no need to ask upstream.
        if not await sync.idempotency_key_used(
            context.sessionmaker, actor=context.actor, key=command.idempotency_key
        ):
            upstream = await sync.fetch_upstream(
                context.pension_client, command.member_number, deadline=deadline
            )
    except CommandRefusedError as refused:
        return Outcome(None, [UserError.from_problem(p) for p in refused.problems])
    return await run_mutation(
        info,
        operation=sync.OPERATION,
        command=lambda: command,
        work=partial(sync.sync_member, upstream=upstream),
    )
