"""The compiled path's row scoping (compiled/sql.py `owned`) selects exactly the rows of the
authorization policy's row filter (auth/policy.py), for every model the API reads, for several
members, and none of the models a role may not read."""

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from graphql_api import models
from graphql_api.auth.policy import NO_ROWS, RowScope, read_scope
from graphql_api.auth.service import Viewer
from graphql_api.compiled.sql import StatementBuilder, table_of
from graphql_api.db import to_async_url
from graphql_api.models import Base, Role

MODELS = [
    models.Member,
    models.PensionAccount,
    models.Portfolio,
    models.Recommendation,
    models.LoanApplication,
    models.Prediction,
    models.Feedback,
    models.AuditLog,
]


async def _both(database_url: str, model: type[Base], scope: RowScope) -> tuple[set[int], set[int]]:
    builder = StatementBuilder(scope)
    condition = builder.owned(model, "t")
    compiled = f"SELECT t.id FROM {table_of(model)} t WHERE {condition}"
    member = () if scope.member_id is None else (scope.member_id,)
    engine = create_async_engine(to_async_url(database_url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            rows = await raw.driver_connection.fetch(compiled, *member)  # type: ignore[union-attr]
            expected = await connection.scalars(
                select(model.id).where(scope.row_filter(model))  # type: ignore[attr-defined]
            )
            return {row[0] for row in rows}, set(expected)
    finally:
        await engine.dispose()


def _viewer(role: Role, member_id: int | None = None) -> Viewer:
    return Viewer(key_id=0, role=role, member_id=member_id, label="scoping-test")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_compiled_scoping_selects_each_members_own_rows(
    demo_loaded: str, model: type[Base]
) -> None:
    compared = 0
    for member_id in (1, 10, 33):
        compiled, expected = asyncio.run(_both(demo_loaded, model, RowScope(member_id)))
        assert compiled == expected
        compared += len(expected)
    assert compared, f"{model.__name__}: these members own no rows to compare"


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_compiled_scoping_selects_the_policy_rows_of_each_role(
    demo_loaded: str, model: type[Base], role: Role
) -> None:
    scope = read_scope(_viewer(role, 10 if role is Role.MEMBER else None))
    compiled, expected = asyncio.run(_both(demo_loaded, model, scope))
    assert compiled == expected
    if role is Role.AGENT and model is models.AuditLog:
        assert expected == set()
    else:
        assert expected, f"{model.__name__}: {role} reads no rows to compare"


def test_unscoped_statements_add_no_condition() -> None:
    admin = read_scope(_viewer(Role.ADMIN))
    assert StatementBuilder(admin).owned(models.Feedback, "t") == "TRUE"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_no_viewer_compiles_to_no_rows(demo_loaded: str, model: type[Base]) -> None:
    """Fail closed, like the policy: a statement built without a viewer reads nothing."""
    assert StatementBuilder(NO_ROWS).owned(model, "t") == "FALSE"
    compiled, expected = asyncio.run(_both(demo_loaded, model, read_scope(None)))
    assert compiled == expected == set()


def test_unreadable_models_read_no_rows_scoped_or_not() -> None:
    for member_id in (None, 10):
        builder = StatementBuilder(RowScope(member_id, frozenset({models.AuditLog})))
        assert builder.owned(models.AuditLog, "t") == "FALSE"
        assert builder.owned(models.Member, "t") != "FALSE"
