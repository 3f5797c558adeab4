"""Reads without a viewer, and loaders built by hand, against the demo data.

No transport reads before it authenticates, so a missing viewer must never mean "every row":
a Context without a viewer reads no rows, whatever loaders it was given, and a member id passed
to `Loaders` without the viewer grants nothing (it once meant "that member's rows, audit log
included", whatever the key's role). With the viewer, the same loaders read the policy's rows.
"""

import asyncio
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from graphql_api import relation_specs
from graphql_api.auth import policy
from graphql_api.auth.service import Viewer
from graphql_api.config import Settings
from graphql_api.context import Context
from graphql_api.db import to_async_url
from graphql_api.graph.loaders import Loaders
from graphql_api.kit.pagination import PageRequest
from graphql_api.models import Role
from graphql_api.request_db import RequestDatabase

MEMBER_ID = 10  # M-100010: owns rows in every table of the demo data, audit rows included


def _viewer(role: Role) -> Viewer:
    member_id = MEMBER_ID if role is Role.MEMBER else None
    return Viewer(key_id=0, role=role, member_id=member_id, label=f"no-viewer-test-{role}")


async def _reads(loaders: Loaders) -> tuple[bool, int, int]:
    """(member row found?, its audit rows counted, its audit rows on the first page)."""
    member = await loaders.lookup(relation_specs.MEMBER_BY_ID).load(MEMBER_ID)
    audit = relation_specs.MEMBER_AUDIT_LOGS
    counted = await loaders.count(audit, MEMBER_ID)
    page = await loaders.page(audit, MEMBER_ID, PageRequest(limit=50))
    return member is not None, counted, len(page)


def _context_reads(
    database_url: str, who: Viewer | None, hand_built: Any, *, refreshed: bool = False
) -> tuple[bool, int, int]:
    """What a Context reads when a transport built its loaders as `Loaders(db, hand_built)`."""

    async def run() -> tuple[bool, int, int]:
        engine = create_async_engine(to_async_url(database_url), poolclass=NullPool)
        db = RequestDatabase(engine)
        try:
            context = Context(
                settings=Settings(database_url=database_url),
                sessionmaker=async_sessionmaker(engine),
                db=db,
                loaders=Loaders(db, hand_built),
                viewer=who,
                request_id="no-viewer-test",
                sentiment_model=cast(Any, None),
                pension_client=None,
            )
            if refreshed:
                context.refresh_loaders()  # as after a mutation commits
            return await _reads(context.loaders)
        finally:
            await db.close()
            await engine.dispose()

    return asyncio.run(run())


@pytest.mark.parametrize("refreshed", [False, True], ids=["built", "refreshed"])
@pytest.mark.parametrize("hand_built", [None, MEMBER_ID], ids=["no-member", "member-id"])
def test_a_context_without_a_viewer_reads_no_rows(
    demo_loaded: str, hand_built: int | None, refreshed: bool
) -> None:
    assert _context_reads(demo_loaded, None, hand_built, refreshed=refreshed) == (False, 0, 0)


def test_the_same_loaders_read_rows_once_the_viewer_is_given(demo_loaded: str) -> None:
    """The refusal above is the missing viewer, not a broken read: an ADMIN reads the member
    and its audit trail through the same hand-built loaders."""
    found, counted, on_page = _context_reads(demo_loaded, _viewer(Role.ADMIN), MEMBER_ID)
    assert found
    assert counted > 0
    assert on_page == min(counted, 50)


@pytest.mark.parametrize("refreshed", [False, True], ids=["built", "refreshed"])
def test_a_member_id_handed_to_an_agents_loaders_grants_no_audit_rows(
    demo_loaded: str, refreshed: bool
) -> None:
    """`Loaders(db, member_id)` (what the MCP transport builds) for an AGENT key: the member
    is readable, its audit rows are not, as the policy says for AGENT keys."""
    reads = _context_reads(demo_loaded, _viewer(Role.AGENT), MEMBER_ID, refreshed=refreshed)
    assert reads == (True, 0, 0)


def test_loaders_alone_follow_the_policy() -> None:
    """Without a Context: the scope comes from the viewer only, never from a member id."""

    async def scopes() -> list[policy.RowScope]:
        engine = create_async_engine("postgresql+asyncpg://unused@127.0.0.1/unused")
        db = RequestDatabase(engine)  # never connects: no batch runs here
        try:
            return [
                Loaders(db).scope,
                Loaders(db, MEMBER_ID).scope,
                Loaders(db, viewer=_viewer(Role.AGENT)).scope,
                Loaders(db, None, viewer=_viewer(Role.MEMBER)).scope,
            ]
        finally:
            await engine.dispose()

    assert asyncio.run(scopes()) == [
        policy.NO_ROWS,
        policy.NO_ROWS,
        policy.read_scope(_viewer(Role.AGENT)),
        policy.read_scope(_viewer(Role.MEMBER)),
    ]
