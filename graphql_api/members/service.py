"""Member rules shared by every write workflow, and creating a member."""

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.audit import service as audit_service
from graphql_api.auth.policy import Action, require
from graphql_api.kit.command_fields import IdempotencyKey, MemberNumber
from graphql_api.kit.commands import CommandInput, RequestMeta
from graphql_api.kit.errors import CommandRefusedError, ErrorCode, Problem, refuse
from graphql_api.models import Member, MemberStatus

CREATE_OPERATION = "createMember"

# The unique constraints createMember can trip over, by the input field they concern.
_UNIQUE_FIELDS = {"uq_members_member_number": "member_number", "uq_members_lower_email": "email"}
_UNIQUE_VIOLATION = "23505"

_EMAIL_MAX = 320
# Unquoted local part without spaces, controls or specials; no leading, trailing or double dot.
_LOCAL_PART = re.compile(r"(?!\.)(?!.*\.\.)[^\s\x00-\x1f\x7f@\"(),:;<>\[\\\]]{1,64}(?<!\.)")
# A hostname label: letters or digits (any script), inner hyphens, at most 63 characters.
_DOMAIN_LABEL = re.compile(r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?")


def _full_name(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain NUL characters")
    # Invisible characters alone (zero-width spaces, direction marks) are no name either.
    if not any(unicodedata.category(char)[0] in "LN" for char in value):
        raise PydanticCustomError("blank", "must contain a letter or digit")
    return value


def _email(value: str) -> str:
    """A sane address shape, checked but kept exactly as given (case included)."""
    local, at, domain = value.rpartition("@")
    labels = domain.split(".")
    if not (
        at
        and _LOCAL_PART.fullmatch(local)
        and len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    ):
        raise PydanticCustomError("email", "must be an email address such as name@example.org")
    return value


FullName = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_full_name)
]
Email = Annotated[
    str, StringConstraints(min_length=3, max_length=_EMAIL_MAX), AfterValidator(_email)
]


class CreateMemberCommand(CommandInput):
    member_number: MemberNumber
    full_name: FullName
    email: Email
    status: MemberStatus
    idempotency_key: IdempotencyKey | None = None


async def require_member(session: AsyncSession, member_number: str) -> Member:
    """The member, or a NOT_FOUND refusal pointing at the `memberNumber` input."""
    member = await session.scalar(select(Member).where(Member.member_number == member_number))
    if member is None:
        raise refuse(ErrorCode.NOT_FOUND, f"No member {member_number!r}.", "member_number")
    return member


async def create_member(
    session: AsyncSession, command: CreateMemberCommand, meta: RequestMeta
) -> int:
    """Insert a member (no pension account: that arrives with the first sync) and audit it."""
    require(meta.viewer, Action.CREATE_MEMBER)
    await _refuse_taken(session, command)
    member = Member(
        member_number=command.member_number,
        full_name=command.full_name,
        email=command.email,
        status=command.status,
    )
    session.add(member)
    try:
        await session.flush()
    except IntegrityError as error:
        # A concurrent request took the number or email after the check above. Raising rolls
        # back the whole transaction (the idempotency claim too), so nothing is written.
        refusal = _conflict_from(error, command)
        if refusal is None:
            raise
        raise refusal from None
    await audit_service.record(
        session,
        meta,
        action="member.created",
        entity=member,
        member_id=member.id,
        # Contact details stay out of the append-only log: it cannot be corrected or erased.
        payload={
            "memberNumber": command.member_number,
            "fullName": command.full_name,
            "status": command.status.value,
        },
    )
    return member.id


async def _refuse_taken(session: AsyncSession, command: CreateMemberCommand) -> None:
    """CONFLICT for a member number or email (ignoring case) that is already in use."""
    taken = (
        await session.execute(
            select(
                func.bool_or(Member.member_number == command.member_number),
                func.bool_or(func.lower(Member.email) == func.lower(command.email)),
            ).where(
                (Member.member_number == command.member_number)
                | (func.lower(Member.email) == func.lower(command.email))
            )
        )
    ).one()
    problems = []
    if taken[0]:
        problems.append(_number_taken(command))
    if taken[1]:
        problems.append(_email_taken())
    if problems:
        raise CommandRefusedError(*problems)


def _number_taken(command: CreateMemberCommand) -> Problem:
    return Problem(
        ErrorCode.CONFLICT,
        f"Member number {command.member_number!r} is already in use.",
        ("member_number",),
    )


def _email_taken() -> Problem:
    # The message does not echo the address: whose it is stays private.
    return Problem(
        ErrorCode.CONFLICT, "This email address is already in use by another member.", ("email",)
    )


def _conflict_from(
    error: IntegrityError, command: CreateMemberCommand
) -> CommandRefusedError | None:
    """The refusal for a unique violation on the number or email; None for anything else."""
    cause = error.orig.__cause__ if error.orig is not None else None
    sqlstate = getattr(error.orig, "sqlstate", None)
    field = _UNIQUE_FIELDS.get(str(getattr(cause, "constraint_name", "")))
    if sqlstate != _UNIQUE_VIOLATION or field is None:
        return None
    problem = _number_taken(command) if field == "member_number" else _email_taken()
    return CommandRefusedError(problem)
