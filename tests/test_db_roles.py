"""Database privileges (graphql_api/runtime/db_roles.py): the app role the API connects as cannot
change the schema or rewrite the audit log, and can do everything the API needs.

The session database has its own owner and app roles (tests/db.py); statements that must fail
run in transactions that are rolled back whatever happens, so the shared data never changes.
"""

import asyncio
import base64
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import pytest
from alembic import command

from graphql_api.config import get_settings
from graphql_api.runtime import cli, db_roles, migrate, serve
from graphql_api.runtime.embedded import APP_DATABASE, EmbeddedPostgres
from graphql_api.seeding.demo import load_demo
from tests.db import ProvisionedDatabase, provisioned_database
from tests.db_counts import TABLES, fetch
from tests.graphql_client import GraphQLClient

T = TypeVar("T")
DML = {"SELECT", "INSERT", "UPDATE", "DELETE"}
DOCS = Path(__file__).resolve().parent.parent / "docs" / "database-roles.md"

# Every statement the app role must be refused by a privilege check, not by a trigger.
REFUSED = [
    "ALTER TABLE members ADD COLUMN tampered integer",
    "ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only",
    "DROP TRIGGER audit_logs_append_only ON audit_logs",
    "CREATE TABLE intruder (id integer)",
    "CREATE VIEW intruder AS SELECT 1 AS one",
    "CREATE INDEX intruder_ix ON members (full_name)",
    "CREATE FUNCTION intruder() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
    "CREATE SCHEMA intruder",
    "DROP TABLE feedback",
    "DROP FUNCTION audit_logs_reject_change()",
    "ALTER SEQUENCE members_id_seq RESTART WITH 1",
    "SELECT setval('members_id_seq', 1)",
    "UPDATE audit_logs SET actor = 'tampered'",
    "DELETE FROM audit_logs",
    "TRUNCATE audit_logs",
    "TRUNCATE members CASCADE",
    "INSERT INTO alembic_version VALUES ('tampered')",
    "UPDATE alembic_version SET version_num = 'tampered'",
]


def _run(work: Callable[[asyncpg.Connection], Awaitable[T]], url: str) -> T:
    """Run `work` on a connection to `url` inside a transaction that is always rolled back."""

    async def main() -> T:
        connection = await asyncpg.connect(url)
        try:
            transaction = connection.transaction()
            await transaction.start()
            try:
                return await work(connection)
            finally:
                await transaction.rollback()
        finally:
            await connection.close()

    return asyncio.run(main())


async def _table_privileges(connection: asyncpg.Connection, role: str) -> dict[str, set[str]]:
    """role's effective privileges on every table in public, as the admin sees them."""
    privileges = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]
    if int(await connection.fetchval("SHOW server_version_num")) >= 170000:
        privileges.append("MAINTAIN")
    rows = await connection.fetch(
        "SELECT c.relname, array(SELECT p FROM unnest($2::text[]) AS p"
        " WHERE has_table_privilege($1, c.oid, p)) AS granted"
        " FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
        " AND c.relkind IN ('r', 'p')",
        role,
        privileges,
    )
    return {row["relname"]: set(row["granted"]) for row in rows}


def _expected_table_privileges(tables: set[str]) -> dict[str, set[str]]:
    return {
        t: {"SELECT", "INSERT"}
        if t in db_roles.APPEND_ONLY_TABLES
        else {"SELECT"}
        if t in db_roles.READ_ONLY_TABLES
        else DML
        for t in tables
    }


async def _acl_snapshot(connection: asyncpg.Connection) -> list[Any]:
    rows = await connection.fetch(
        "SELECT relname, relacl::text[] FROM pg_class"
        " WHERE relnamespace = 'public'::regnamespace ORDER BY relname"
    )
    schema = await connection.fetchval(
        "SELECT nspacl::text[] FROM pg_namespace WHERE nspname = 'public'"
    )
    defaults = await connection.fetch(
        "SELECT pg_get_userbyid(defaclrole), defaclobjtype, defaclacl::text[] FROM pg_default_acl"
        " ORDER BY 1, 2"
    )
    return [[tuple(r) for r in rows], schema, [tuple(r) for r in defaults]]


@pytest.mark.parametrize("statement", REFUSED)
def test_app_role_is_refused_schema_changes_and_audit_rewrites(
    provisioned_db: ProvisionedDatabase, demo_loaded: str, statement: str
) -> None:
    async def attempt(connection: asyncpg.Connection) -> None:
        await connection.execute(statement)

    with pytest.raises(asyncpg.InsufficientPrivilegeError) as refused:
        _run(attempt, provisioned_db.app_url)
    # The privilege check, before the append-only trigger (which raises the same SQLSTATE).
    assert "append-only" not in str(refused.value)


def test_app_role_cannot_truncate_any_table(provisioned_db: ProvisionedDatabase) -> None:
    [row] = asyncio.run(
        fetch(
            provisioned_db.url,
            "SELECT array_agg(relname::text) FROM pg_class"
            " WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')",
        )
    )
    assert len(row[0]) >= 10
    for table in row[0]:

        async def attempt(connection: asyncpg.Connection, table: str = table) -> None:
            await connection.execute(f'TRUNCATE "{table}" CASCADE')

        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            _run(attempt, provisioned_db.app_url)


def test_app_role_reads_and_writes_what_the_api_needs(
    provisioned_db: ProvisionedDatabase, demo_loaded: str
) -> None:
    async def work(connection: asyncpg.Connection) -> None:
        assert await connection.fetchval("SELECT current_user") == provisioned_db.app_role
        for table in (*TABLES, "alembic_version"):
            await connection.fetchval(f"SELECT count(*) FROM {table}")
        member_id = await connection.fetchval(
            "INSERT INTO members (member_number, full_name, email, status)"
            " VALUES ('M-ROLES1', 'Least Privilege', 'least@example.org', 'ACTIVE') RETURNING id"
        )
        await connection.execute(
            "UPDATE members SET full_name = 'Renamed' WHERE id = $1", member_id
        )
        await connection.fetch("SELECT id FROM portfolios LIMIT 1 FOR UPDATE")
        audit_id = await connection.fetchval(
            "INSERT INTO audit_logs (request_id, actor, action, entity_type, entity_id)"
            " VALUES ('roles-test', 'tests', 'member.created', 'Member', $1) RETURNING id",
            str(member_id),
        )
        assert await connection.fetchval(
            "SELECT entity_id FROM audit_logs WHERE id = $1", audit_id
        ) == str(member_id)
        await connection.execute(
            "INSERT INTO idempotency_keys (actor, operation, key, fingerprint)"
            " VALUES ('tests', 'createMember', 'roles-test', 'f')"
        )
        await connection.execute(
            "UPDATE idempotency_keys SET result_id = $1 WHERE key = 'roles-test'", member_id
        )
        await connection.execute("DELETE FROM members WHERE id = $1", member_id)

    _run(work, provisioned_db.app_url)


def test_app_privileges_are_exactly_the_documented_ones(
    provisioned_db: ProvisionedDatabase,
) -> None:
    app = provisioned_db.app_role

    async def inspect(connection: asyncpg.Connection) -> None:
        tables = await _table_privileges(connection, app)
        assert tables == _expected_table_privileges(set(tables))
        assert {"audit_logs", "alembic_version", "idempotency_keys", "members"} <= set(tables)
        sequences = await connection.fetch(
            "SELECT relname, has_sequence_privilege($1, oid, 'USAGE') AS usage,"
            " has_sequence_privilege($1, oid, 'SELECT') AS select,"
            " has_sequence_privilege($1, oid, 'UPDATE') AS update"
            " FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'S'",
            app,
        )
        assert sequences
        assert all(s["usage"] and s["select"] and not s["update"] for s in sequences)
        assert await connection.fetchval("SELECT has_schema_privilege($1, 'public', 'USAGE')", app)
        assert not await connection.fetchval(
            "SELECT has_schema_privilege($1, 'public', 'CREATE')", app
        )
        assert not await connection.fetchval(
            "SELECT has_schema_privilege('public', 'public', 'CREATE')"
        )
        assert not await connection.fetchval(
            "SELECT has_database_privilege($1, current_database(), 'CREATE')", app
        )
        attributes = await connection.fetchrow(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
            " FROM pg_roles WHERE rolname = $1",
            app,
        )
        assert not any(attributes)

    _run(inspect, provisioned_db.url)


def test_owner_owns_everything_and_the_app_role_nothing(
    provisioned_db: ProvisionedDatabase,
) -> None:
    async def inspect(connection: asyncpg.Connection) -> None:
        owners = await connection.fetch(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class"
            " WHERE relnamespace = 'public'::regnamespace"
            " UNION SELECT DISTINCT pg_get_userbyid(proowner) FROM pg_proc"
            " WHERE pronamespace = 'public'::regnamespace"
            " UNION SELECT pg_get_userbyid(datdba) FROM pg_database"
            " WHERE datname = current_database()"
        )
        assert [o[0] for o in owners] == [provisioned_db.owner_role]
        app_owns = await connection.fetchval(
            "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid)"
            " + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)"
            " + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)"
            " + (SELECT count(*) FROM pg_type WHERE typowner = r.oid)"
            " + (SELECT count(*) FROM pg_database WHERE datdba = r.oid)"
            " FROM pg_roles r WHERE r.rolname = $1",
            provisioned_db.app_role,
        )
        assert app_owns == 0

    _run(inspect, provisioned_db.url)


def test_granting_again_changes_nothing(provisioned_db: ProvisionedDatabase) -> None:
    async def regrant() -> tuple[list[Any], list[Any], bool, bool, bool]:
        admin = await asyncpg.connect(provisioned_db.url)
        owner = await asyncpg.connect(provisioned_db.owner_url)
        app = await asyncpg.connect(provisioned_db.app_url)
        try:
            before = await _acl_snapshot(admin)
            granted = await db_roles.grant_app_privileges(owner, provisioned_db.app_role)
            as_app = await db_roles.grant_app_privileges(app, provisioned_db.app_role)
            missing = await db_roles.grant_app_privileges(owner, "finance_no_such_role")
            return before, await _acl_snapshot(admin), granted, as_app, missing
        finally:
            for connection in (admin, owner, app):
                await connection.close()

    before, after, granted, as_app, missing = asyncio.run(regrant())
    assert (granted, as_app, missing) == (True, False, False)
    assert after == before


def test_api_served_as_the_app_role_writes_its_audit_rows(
    gql: GraphQLClient, provisioned_db: ProvisionedDatabase
) -> None:
    data = gql.ok(
        'mutation { applyForLoan(input: {memberNumber: "M-100001", amount: "5000.00",'
        ' income: "90000.00", employmentYears: 6}) {'
        " loanApplication { id } userErrors { code } } }"
    )
    assert data["applyForLoan"]["userErrors"] == []
    global_id = data["applyForLoan"]["loanApplication"]["id"]
    loan_id = base64.b64decode(global_id).decode().split(":")[1]
    audit = asyncio.run(
        fetch(
            provisioned_db.url,
            "SELECT count(*) FROM audit_logs WHERE action = 'loan.applied' AND entity_id = $1",
            loan_id,
        )
    )
    assert audit[0][0] == 1
    sessions = asyncio.run(
        fetch(
            provisioned_db.url,
            "SELECT DISTINCT usename::text FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'finance-graphql'",
        )
    )
    assert provisioned_db.app_role in {s[0] for s in sessions}


@pytest.fixture(scope="module")
def scratch_db(postgres_server_url: str) -> Iterator[ProvisionedDatabase]:
    """A database of this module's own, for tests that change its schema."""
    with provisioned_database(postgres_server_url) as database:
        yield database


def test_regranting_after_migrating_closes_what_default_privileges_open(
    scratch_db: ProvisionedDatabase,
) -> None:
    """A table a migration creates starts with the default privileges (full DML for the app),
    so an append-only table is only right once the grants are re-applied after migrating."""
    command.downgrade(migrate.alembic_config(scratch_db.owner_url), "base")
    migrate.upgrade(scratch_db.owner_url)

    async def privileges() -> dict[str, set[str]]:
        connection = await asyncpg.connect(scratch_db.url)
        try:
            return await _table_privileges(connection, scratch_db.app_role)
        finally:
            await connection.close()

    by_default = asyncio.run(privileges())
    assert by_default["audit_logs"] == DML
    assert by_default["members"] == DML
    db_roles.upgrade_and_grant(scratch_db.owner_url, scratch_db.app_role)
    regranted = asyncio.run(privileges())
    assert regranted == _expected_table_privileges(set(regranted))


def test_documented_sql_matches_the_code() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for statement in db_roles.app_grants_sql(db_roles.OWNER_ROLE, db_roles.APP_ROLE):
        assert statement.replace('"', "") + ";" in docs, statement


@pytest.fixture
def old_embedded_server() -> Iterator[EmbeddedPostgres]:
    """An embedded data directory as it was before the roles: the database and every object
    in it owned by the server's superuser, demo data loaded."""
    with tempfile.TemporaryDirectory(prefix="finance-api-roles-") as tmp:
        data_dir = Path(tmp)
        server = EmbeddedPostgres(data_dir, cleanup="delete")
        try:

            async def create() -> None:
                admin = await asyncpg.connect(server.url("postgres"))
                try:
                    await admin.execute(f'CREATE DATABASE "{APP_DATABASE}"')
                finally:
                    await admin.close()

            asyncio.run(create())
            migrate.upgrade(server.url(APP_DATABASE))
            assert asyncio.run(load_demo(server.url(APP_DATABASE)))
            yield server
        finally:
            server.stop()


async def _as_served(connection: asyncpg.Connection) -> tuple[str, int, str]:
    """What a worker may do: who it is, reading members, appending an audit row, and the
    error an audit UPDATE gets."""
    user = await connection.fetchval("SELECT current_user")
    members = await connection.fetchval("SELECT count(*) FROM members")
    await connection.execute(
        "INSERT INTO audit_logs (request_id, actor, action, entity_type, entity_id)"
        " VALUES ('roles-test', 'tests', 'member.created', 'Member', '1')"
    )
    try:
        await connection.execute("UPDATE audit_logs SET actor = 'tampered'")
    except asyncpg.InsufficientPrivilegeError as error:
        return user, members, str(error)
    return user, members, ""


@pytest.mark.integration  # its own embedded PostgreSQL
@pytest.mark.own_postgres
def test_serve_converges_an_old_embedded_data_dir_and_starts_again(
    old_embedded_server: EmbeddedPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`finance-api serve` twice on a data directory from before the roles: it hands every
    object to the owner, migrates as the owner and gives uvicorn the app role's URL."""
    served: list[tuple[str, int, str]] = []

    def fake_uvicorn_run(*_: object, **__: object) -> None:
        served.append(_run(_as_served, os.environ["DATABASE_URL"]))

    monkeypatch.setattr(serve, "run_api", fake_uvicorn_run)
    monkeypatch.setenv("FINANCE_API_DATA_DIR", str(old_embedded_server.data_dir))
    monkeypatch.setenv("FINANCE_API_EMBEDDED", "1")
    # A configured provider: no sandbox thread needed for this.
    monkeypatch.setenv("PENSION_API_BASE_URL", "http://127.0.0.1:9")
    try:
        for _ in range(2):
            monkeypatch.delenv("DATABASE_URL", raising=False)
            monkeypatch.delenv("FINANCE_API_DATABASE_URL", raising=False)
            get_settings.cache_clear()
            assert cli.main(["serve", "--port", "0"]) == 0
    finally:
        get_settings.cache_clear()

    assert len(served) == 2
    for user, members, refused in served:
        assert user == db_roles.APP_ROLE
        assert members > 0
        assert "permission denied" in refused
    [row] = asyncio.run(
        fetch(
            old_embedded_server.url(APP_DATABASE),
            "SELECT array_agg(DISTINCT pg_get_userbyid(relowner)::text) FROM pg_class"
            " WHERE relnamespace = 'public'::regnamespace",
        )
    )
    assert row[0] == [db_roles.OWNER_ROLE]
