"""Database roles: the OWNER runs migrations and seeding and owns every object; the APP role
is what the API connects as. The app may read and write the business tables, only read and
append to `audit_logs`, only read `alembic_version`, and cannot create, alter, drop or
truncate anything. docs/database-roles.md shows the same SQL for an external server.

`grant_app_privileges` (re)applies the app's grants exactly and idempotently; `finance-api
migrate` (and `serve`/`seed`, which migrate) run it after every upgrade, so a table created by
a new migration gets the right grants even where the default privileges would give it more.
"""

import asyncio
import logging
import re

import asyncpg

logger = logging.getLogger(__name__)

OWNER_ROLE = "finance_owner"
APP_ROLE = "finance_app"
SCHEMA = "public"
# The app may read and append to these, never change or remove a row (the audit trail).
APPEND_ONLY_TABLES = ("audit_logs",)
# The app may only read these (Alembic's bookkeeping).
READ_ONLY_TABLES = ("alembic_version",)
ROLE_NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]{0,62}"

# Relations in the schema that are not owned by the owner. Identity and serial sequences are
# left out: they follow their table's owner.
_FOREIGN_OWNED_RELATIONS = """
SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS kind
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = $2)
  AND NOT (c.relkind = 'S' AND EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
ORDER BY c.relname
"""
_FOREIGN_OWNED_ROUTINES = """
SELECT p.oid::regprocedure::text AS name
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = $1 AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = $2)
ORDER BY 1
"""
_ALTER_OWNER = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW", "S": "SEQUENCE"}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_role_name(name: str) -> str:
    if not re.fullmatch(ROLE_NAME_PATTERN, name):
        raise ValueError(f"not a plain PostgreSQL role name: {name!r}")
    return name


def app_grants_sql(
    owner: str,
    app: str,
    *,
    schema: str = SCHEMA,
    append_only: tuple[str, ...] = APPEND_ONLY_TABLES,
    read_only: tuple[str, ...] = READ_ONLY_TABLES,
) -> list[str]:
    """The app role's exact privileges, run by `owner` (the role the migrations run as) after
    migrating. Starts from nothing each time, so running it again changes nothing."""
    o, a, s = quote_ident(owner), quote_ident(app), quote_ident(schema)
    dml = "SELECT, INSERT, UPDATE, DELETE"
    return [
        # Schema: look up objects, never create them.
        f"REVOKE ALL ON SCHEMA {s} FROM {a}",
        f"GRANT USAGE ON SCHEMA {s} TO {a}",
        # Tables: rows only. No TRUNCATE, REFERENCES or TRIGGER; ALTER/DROP need ownership.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {a}",
        f"GRANT {dml} ON ALL TABLES IN SCHEMA {s} TO {a}",
        *(f"REVOKE UPDATE, DELETE ON {s}.{quote_ident(t)} FROM {a}" for t in append_only),
        *(f"REVOKE INSERT, UPDATE, DELETE ON {s}.{quote_ident(t)} FROM {a}" for t in read_only),
        # Sequences: nextval/currval, never setval.
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {a}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {a}",
        # Tables and sequences the owner creates later start with the same grants.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT {dml} ON TABLES TO {a}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES"
        f" TO {a}",
    ]


async def role_exists(connection: asyncpg.Connection, role: str) -> bool:
    return bool(await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role))


async def grant_app_privileges(
    connection: asyncpg.Connection, app_role: str, *, schema: str = SCHEMA
) -> bool:
    """Apply `app_grants_sql` as the connected role (the owner; a superuser also works, the
    default privileges then being its own). False, and nothing done, when the app role does
    not exist or is the connected role itself."""
    check_role_name(app_role)
    current: str = await connection.fetchval("SELECT current_user")
    if not await role_exists(connection, app_role):
        logger.info("role %s does not exist: no app privileges granted", app_role)
        return False
    if current == app_role:
        logger.info("connected as the app role %s: its privileges are left as they are", app_role)
        return False
    present = {
        row["relname"]
        for row in await connection.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')",
            schema,
        )
    }
    statements = app_grants_sql(
        current,
        app_role,
        schema=schema,
        append_only=tuple(t for t in APPEND_ONLY_TABLES if t in present),
        read_only=tuple(t for t in READ_ONLY_TABLES if t in present),
    )
    async with connection.transaction():
        for statement in statements:
            await connection.execute(statement)
    logger.info("granted the app role %s its privileges on schema %s", app_role, schema)
    return True


async def _grant_at(url: str, app_role: str) -> bool:
    connection = await asyncpg.connect(url)
    try:
        return await grant_app_privileges(connection, app_role)
    finally:
        await connection.close()


def upgrade_and_grant(url: str, app_role: str | None) -> None:
    """Migrate to head as the role of `url` (the owner), then re-apply the app role's grants
    (skipped when `app_role` is empty or does not exist)."""
    from graphql_api.runtime import migrate

    migrate.upgrade(url)
    if app_role:
        asyncio.run(_grant_at(url, app_role))


# Administration: what a superuser (or a role with CREATEROLE and CREATEDB) sets up once.


async def ensure_login_role(
    connection: asyncpg.Connection, role: str, *, password: str | None = None
) -> bool:
    """Create `role` (LOGIN, no special attributes) unless it exists; True if created."""
    check_role_name(role)
    if await role_exists(connection, role):
        return False
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    if password is None:
        await connection.execute(f"CREATE ROLE {quote_ident(role)} {attributes}")
    else:
        # CREATE ROLE takes no bind parameters; the password is quoted as a literal.
        literal = "'" + password.replace("'", "''") + "'"
        await connection.execute(f"CREATE ROLE {quote_ident(role)} {attributes} PASSWORD {literal}")
    logger.info("created role %s", role)
    return True


async def ensure_database(connection: asyncpg.Connection, database: str, owner: str) -> None:
    """Create `database` owned by `owner`, or hand an existing one over to `owner`. On
    PostgreSQL 15+ the database owner also owns schema public (pg_database_owner)."""
    current = await connection.fetchval(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", database
    )
    if current is None:
        logger.info("creating database %s owned by %s", database, owner)
        await connection.execute(
            f"CREATE DATABASE {quote_ident(database)} OWNER {quote_ident(owner)}"
        )
    elif current != owner:
        logger.info("handing database %s over from %s to %s", database, current, owner)
        await connection.execute(
            f"ALTER DATABASE {quote_ident(database)} OWNER TO {quote_ident(owner)}"
        )


async def secure_schema(
    connection: asyncpg.Connection, owner: str, *, schema: str = SCHEMA
) -> None:
    """In the connected database: nobody but the owner creates objects in `schema`, and every
    object in it belongs to the owner (converging databases created before the roles existed,
    where everything belonged to the superuser)."""
    check_role_name(owner)
    s = quote_ident(schema)
    await connection.execute(f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC")
    await connection.execute(f"GRANT USAGE, CREATE ON SCHEMA {s} TO {quote_ident(owner)}")
    for row in await connection.fetch(_FOREIGN_OWNED_RELATIONS, schema, owner):
        kind = row["kind"]
        if kind == "m":
            statement = f"ALTER MATERIALIZED VIEW {row['name']} OWNER TO {quote_ident(owner)}"
        else:
            statement = f"ALTER {_ALTER_OWNER[kind]} {row['name']} OWNER TO {quote_ident(owner)}"
        logger.info("handing %s over to %s", row["name"], owner)
        await connection.execute(statement)
    for row in await connection.fetch(_FOREIGN_OWNED_ROUTINES, schema, owner):
        logger.info("handing %s over to %s", row["name"], owner)
        await connection.execute(f"ALTER ROUTINE {row['name']} OWNER TO {quote_ident(owner)}")
