"""The authorization policy (graphql_api/auth/policy.py) on its own, without GraphQL: every
(action, role) cell of `can`, `require`'s refusal, each model's row filter run against the
demo data (no viewer: no rows), masking, and a service called directly refusing a role the
policy refuses."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from graphql_api import models
from graphql_api.auth import policy
from graphql_api.auth.policy import Action, ForbiddenError
from graphql_api.auth.service import Viewer
from graphql_api.config import Settings
from graphql_api.context import Context
from graphql_api.db import to_async_url
from graphql_api.graph.loaders import Loaders
from graphql_api.kit.commands import RequestMeta
from graphql_api.kit.errors import CommandRefusedError, ErrorCode
from graphql_api.members.service import CreateMemberCommand, create_member
from graphql_api.models import Base, Role
from graphql_api.request_db import RequestDatabase
from tests.db_counts import fetch, row_counts

T = TypeVar("T")
A, V, G, M = Role.ADMIN, Role.ADVISOR, Role.AGENT, Role.MEMBER

# Written out cell by cell, not derived from the policy: a change to the policy must change
# this table too.
EXPECTED: dict[Action, set[Role]] = {
    Action.READ_MEMBERS: {A, V, G, M},
    Action.READ_NODE: {A, V, G, M},
    Action.READ_LENDING: {A, V, G, M},
    Action.READ_PREDICTIONS: {A, V, G, M},
    Action.READ_AUDIT: {A, V, M},
    Action.READ_MODEL_PERFORMANCE: {A, V, G},
    Action.CREATE_MEMBER: {A, V},
    Action.SYNC_MEMBER: {A, V},
    Action.APPLY_FOR_LOAN: {A, V, G},
    Action.REQUEST_RECOMMENDATION: {A, V, G},
    Action.RECORD_RECOMMENDATION: {A, V, G},
    Action.PREDICT_SENTIMENT: {A, V, G},
    Action.SUBMIT_FEEDBACK: {A, V, G, M},
}

MEMBER_ID = 10  # M-100010, which owns rows in every table of the demo data

# Each table's rows with the member they belong to (NULL: no member), in plain SQL.
OWNERS: dict[type[Base], str] = {
    models.Member: "SELECT id, id FROM members",
    models.PensionAccount: "SELECT id, member_id FROM pension_accounts",
    models.Portfolio: "SELECT id, member_id FROM portfolios",
    models.Recommendation: "SELECT r.id, p.member_id FROM recommendations r"
    " JOIN portfolios p ON p.id = r.portfolio_id",
    models.LoanApplication: "SELECT id, member_id FROM loan_applications",
    models.Prediction: "SELECT id, member_id FROM predictions",
    models.Feedback: "SELECT f.id, p.member_id FROM feedback f"
    " JOIN predictions p ON p.id = f.prediction_id",
    models.AuditLog: "SELECT id, member_id FROM audit_logs",
}


def viewer(role: Role, member_id: int | None = None) -> Viewer:
    return Viewer(key_id=0, role=role, member_id=member_id, label=f"policy-test-{role}")


def test_the_expected_table_names_every_action() -> None:
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("action", list(Action), ids=str)
def test_can_matches_the_expected_table(action: Action, role: Role) -> None:
    member_id = MEMBER_ID if role is Role.MEMBER else None
    assert policy.can(viewer(role, member_id), action) is (role in EXPECTED[action])
    assert (role in policy.roles_for(action)) is (role in EXPECTED[action])


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_no_viewer_may_do_nothing(action: Action) -> None:
    assert not policy.can(None, action)
    with pytest.raises(ForbiddenError):
        policy.require(None, action)


def test_require_refuses_with_forbidden_and_passes_the_allowed() -> None:
    with pytest.raises(ForbiddenError) as refused:
        policy.require(viewer(Role.AGENT), Action.CREATE_MEMBER)
    assert isinstance(refused.value, CommandRefusedError)
    assert refused.value.action is Action.CREATE_MEMBER
    assert [p.code for p in refused.value.problems] == [ErrorCode.FORBIDDEN]
    policy.require(viewer(Role.ADVISOR), Action.CREATE_MEMBER)  # no exception


def test_masking() -> None:
    assert policy.masked_for(models.Member, "email") == {Role.AGENT}
    assert policy.masked_for(models.Member, "full_name") == frozenset()
    assert policy.sees_masked(viewer(Role.AGENT), models.Member, "email")
    assert not policy.sees_masked(viewer(Role.ADVISOR), models.Member, "email")
    assert not policy.sees_masked(None, models.Member, "email")


def test_member_scope_and_loaded_rows() -> None:
    member = viewer(Role.MEMBER, MEMBER_ID)
    assert policy.member_scope(member) == MEMBER_ID
    assert policy.member_scope(viewer(Role.ADMIN)) is None
    assert policy.may_see_member_row(member, MEMBER_ID)
    assert not policy.may_see_member_row(member, MEMBER_ID + 1)
    assert not policy.may_see_member_row(member, None)
    assert policy.may_see_member_row(viewer(Role.AGENT), MEMBER_ID + 1)
    assert not policy.may_see_member_row(None, MEMBER_ID)


def _run(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        async with _session(database_url) as session:
            return await work(session)

    return asyncio.run(run())


@asynccontextmanager
async def _session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_async_engine(to_async_url(database_url), poolclass=NullPool)
    try:
        async with async_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def _filtered_ids(database_url: str, who: Viewer | None, model: type[Base]) -> set[int]:
    async def ids(session: AsyncSession) -> set[int]:
        column: Any = model.id  # type: ignore[attr-defined]
        return set(await session.scalars(select(column).where(policy.row_filter(who, model))))

    return _run(database_url, ids)


@pytest.mark.parametrize("model", list(OWNERS), ids=lambda m: m.__name__)
def test_row_filters_on_the_demo_data(demo_loaded: str, model: type[Base]) -> None:
    owners = {row[0]: row[1] for row in asyncio.run(fetch(demo_loaded, OWNERS[model]))}
    own = {row_id for row_id, owner in owners.items() if owner == MEMBER_ID}
    assert own, f"{model.__name__}: the member owns no rows to compare"
    assert len(owners) > len(own)

    assert _filtered_ids(demo_loaded, viewer(Role.MEMBER, MEMBER_ID), model) == own
    assert _filtered_ids(demo_loaded, viewer(Role.ADMIN), model) == set(owners)
    assert _filtered_ids(demo_loaded, None, model) == set()  # no viewer: fail closed
    agent_sees = _filtered_ids(demo_loaded, viewer(Role.AGENT), model)
    assert agent_sees == (set() if model is models.AuditLog else set(owners))


def test_read_scope_carries_the_row_filters() -> None:
    assert policy.read_scope(None) == policy.NO_ROWS
    assert not policy.NO_ROWS.unrestricted
    assert not any(policy.NO_ROWS.may_read(model) for model in OWNERS)
    assert policy.read_scope(viewer(Role.ADVISOR)).unrestricted
    assert policy.read_scope(viewer(Role.AGENT)).unreadable == {models.AuditLog}
    member = policy.read_scope(viewer(Role.MEMBER, MEMBER_ID))
    assert (member.member_id, member.unreadable) == (MEMBER_ID, frozenset())


def _create_command() -> CreateMemberCommand:
    unique = uuid.uuid4().hex[:10]
    return CreateMemberCommand.parse(
        {
            "member_number": f"T-{unique}",
            "full_name": "Policy Probe",
            "email": f"policy-{unique}@example.org",
            "status": "ACTIVE",
        }
    )


@pytest.mark.parametrize(
    "who",
    [viewer(Role.AGENT), viewer(Role.MEMBER, MEMBER_ID), None],
    ids=["agent", "member", "no-viewer"],
)
def test_a_service_called_directly_refuses_a_forbidden_caller(
    demo_loaded: str, who: Viewer | None
) -> None:
    """No GraphQL guard in front: the service itself asks the policy, before any write. A
    RequestMeta without a viewer (no authentication ran) is refused like a forbidden role."""
    meta = RequestMeta(request_id="policy-test", viewer=who)
    before = row_counts(demo_loaded)

    async def create(session: AsyncSession) -> int:
        async with session.begin():
            return await create_member(session, _create_command(), meta)

    with pytest.raises(ForbiddenError) as refused:
        _run(demo_loaded, create)
    assert [p.code for p in refused.value.problems] == [ErrorCode.FORBIDDEN]
    assert row_counts(demo_loaded) == before


def test_the_same_call_as_an_advisor_writes(demo_loaded: str) -> None:
    """The refusal above is the policy's, not a broken call: an ADVISOR gets a member (rolled
    back here, so the shared database is left as it was)."""
    meta = RequestMeta(request_id="policy-test", viewer=viewer(Role.ADVISOR))
    before = row_counts(demo_loaded)

    async def create_then_roll_back(session: AsyncSession) -> int:
        transaction = await session.begin()
        try:
            return await create_member(session, _create_command(), meta)
        finally:
            await transaction.rollback()

    assert _run(demo_loaded, create_then_roll_back) > 0
    assert row_counts(demo_loaded) == before


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_a_context_reads_what_its_viewer_may_whoever_built_its_loaders(
    demo_loaded: str, role: Role
) -> None:
    """A transport building `Loaders(db, member_id)` by hand still gets the policy's rows."""
    who = viewer(role, MEMBER_ID if role is Role.MEMBER else None)

    async def scope_of_context() -> policy.RowScope:
        engine = create_async_engine(to_async_url(demo_loaded), poolclass=NullPool)
        try:
            db = RequestDatabase(engine)
            context = Context(
                settings=Settings(database_url=demo_loaded),
                sessionmaker=async_sessionmaker(engine),
                db=db,
                loaders=Loaders(db, who.member_id),
                viewer=who,
                request_id="policy-test",
                sentiment_model=cast(Any, None),
                pension_client=None,
            )
            return context.loaders.scope
        finally:
            await engine.dispose()

    assert asyncio.run(scope_of_context()) == policy.read_scope(who)
