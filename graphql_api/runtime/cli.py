"""The `finance-api` command line."""

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

from graphql_api.auth.bootstrap import KEY_FILE, banner
from graphql_api.auth.cli import add_keys_command
from graphql_api.bench import add_bench_command
from graphql_api.config import Settings, get_settings
from graphql_api.runtime.console import configured_logging, finish_parser, package_version
from graphql_api.runtime.lifecycle import (
    SetupNeededError,
    app_role,
    deferred_stop_signals,
    embedded_database,
    owner_database,
    require_latest_schema,
    stop_signals_unwind,
)

if TYPE_CHECKING:
    from graphql_api.runtime.embedded import EmbeddedDatabase

logger = logging.getLogger("graphql_api")

DESCRIPTION = "The finance GraphQL API: serve it, migrate and seed its database, manage API keys."
EPILOG = (
    "Without DATABASE_URL, every command that needs a database uses the embedded PostgreSQL in"
    " FINANCE_API_DATA_DIR (default ./.finance-api): started, migrated and stopped as needed."
)


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except KeyboardInterrupt:
        return 130
    handler: Callable[[argparse.Namespace], int] = args.handler
    with (
        configured_logging(verbose=args.verbose, progress=args.progress_logs),
        stop_signals_unwind(),
    ):
        try:
            return handler(args)
        except SetupNeededError as needed:
            print(f"finance-api: error: {needed}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("finance-api: interrupted", file=sys.stderr)
            return 130


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="finance-api", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.set_defaults(progress_logs=False)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the API (embedded PostgreSQL by default)",
        description="Serve /graphql until SIGINT (Ctrl-C), SIGTERM or SIGHUP, then stop the"
        " API server, the sandbox provider and the embedded PostgreSQL, in that order.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    serve.add_argument(
        "--port", type=int, default=8000, help="TCP port; the sandbox provider takes the next one"
    )
    serve.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="worker processes, each with its own database pool",
    )
    serve.add_argument(
        "--no-demo", action="store_true", help="do not load the demo data into an empty database"
    )
    serve.set_defaults(handler=_serve, progress_logs=True)

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
    sandbox.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    sandbox.add_argument("--port", type=int, default=8081, help="TCP port")
    sandbox.set_defaults(handler=_sandbox_provider)

    mcp = commands.add_parser(
        "mcp",
        help="serve the MCP tools over stdio (key from FINANCE_API_KEY)",
        description="Serve the MCP tools (docs/mcp.md) on stdin/stdout for one MCP client,"
        " acting with the API key in FINANCE_API_KEY. Uses DATABASE_URL, or the embedded"
        " PostgreSQL (migrated first). Logs go to stderr; stdout is the protocol.",
    )
    mcp.set_defaults(handler=_mcp)

    export = commands.add_parser("export-schema", help="print the sorted GraphQL SDL")
    export.set_defaults(handler=_export_schema)
    add_bench_command(commands)
    add_keys_command(commands)
    finish_parser(parser)
    return parser


def database_url(settings: Settings) -> str:
    """The configured server, or the embedded one (started here): the URL to migrate and seed
    with, which on the embedded server is the owner role's (docs/database-roles.md)."""
    if settings.database_url:
        return settings.database_url
    return _embedded(settings).owner_url


def _embedded(settings: Settings) -> "EmbeddedDatabase":
    """Started here and held until this process exits (the wheel's exit hook releases it);
    commands that can, use `lifecycle.owner_database` instead, which releases it at once."""
    if settings.is_production:
        raise SetupNeededError("FINANCE_API_ENV=production needs DATABASE_URL")
    from graphql_api.runtime.embedded import start_embedded

    return start_embedded(settings.data_dir, app_role(settings))


def _serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    graphiql = f"http://{args.host}:{args.port}/graphql"
    if settings.database_url:
        # An external DATABASE_URL is used as given (it should be the app role's), and
        # migrated by its owner beforehand.
        require_latest_schema(settings.database_url, unreachable_ok=True)
        print(f"GraphiQL: {graphiql}", file=sys.stderr, flush=True)
        _run_api(args, settings.database_url)
        return 0
    from graphql_api.runtime.serve import sandbox_unless_configured

    with ExitStack() as stack:
        # Start, migration, demo data and key are not cut off half-way: a stop signal that
        # arrives meanwhile acts once they are done (and the server is released).
        with deferred_stop_signals():
            database = stack.enter_context(embedded_database(settings))
            admin_key = _prepare_embedded(args, settings, database)
        # On the embedded database, syncMember talks to a local sandbox provider by default.
        with sandbox_unless_configured(settings, args.port):
            print(banner(admin_key, graphiql, settings.data_dir / KEY_FILE), flush=True)
            # As the app role: no DDL, no UPDATE/DELETE/TRUNCATE on audit_logs.
            _run_api(args, database.app_url)
    return 0


def _prepare_embedded(
    args: argparse.Namespace, settings: Settings, database: "EmbeddedDatabase"
) -> str:
    """Migrate, load the demo data into an empty database, and return the demo admin key."""
    from graphql_api.runtime.db_roles import upgrade_and_grant
    from graphql_api.seeding.demo import load_demo

    upgrade_and_grant(database.owner_url, app_role(settings))
    if not args.no_demo and asyncio.run(load_demo(database.owner_url)):
        logger.info("loaded the demo data")
    admin_key = _demo_admin_key(settings, database.owner_url)
    # GraphiQL opens with this key for a browser on this machine (graphql_api/ide).
    os.environ["FINANCE_API_IDE_ADMIN_KEY_FILE"] = str((settings.data_dir / KEY_FILE).resolve())
    return admin_key


def _run_api(args: argparse.Namespace, url: str) -> None:
    from graphql_api.runtime.serve import run_api

    # Workers are separate processes: they read the URL from the environment.
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    run_api(args.host, args.port, args.workers, log_level="debug" if args.verbose else "info")
    logger.info("stopped API server")


def _demo_admin_key(settings: Settings, owner_url: str) -> str:
    """Development on the embedded database only: production never creates keys itself."""
    from graphql_api.auth.bootstrap import ensure_demo_admin_key

    return asyncio.run(ensure_demo_admin_key(settings, owner_url))


def _migrate(_: argparse.Namespace) -> int:
    from graphql_api.runtime.migrate import head_revision

    # Run as the owner; the app role's grants are re-applied after (docs/database-roles.md).
    with owner_database(get_settings(), migrate=True):
        print(f"database schema at the latest revision ({head_revision()})")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from graphql_api.seeding.demo import load_demo
    from graphql_api.seeding.synthetic import seed_synthetic

    with owner_database(get_settings(), migrate=True) as url:
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


def _mcp(_: argparse.Namespace) -> int:
    from graphql_api.mcp_server.stdio import API_KEY_ENV, InvalidApiKeyError, serve_stdio

    token = os.environ.get(API_KEY_ENV, "").strip()
    if not token:
        raise SetupNeededError(f"set {API_KEY_ENV} to an API key (`finance-api keys create`)")
    settings = get_settings()
    with ExitStack() as stack:
        if settings.database_url:
            require_latest_schema(settings.database_url)
            url = settings.database_url
        else:
            from graphql_api.runtime.db_roles import upgrade_and_grant

            with deferred_stop_signals():
                database = stack.enter_context(embedded_database(settings))
                upgrade_and_grant(database.owner_url, app_role(settings))
            url = database.app_url
        try:
            asyncio.run(serve_stdio(settings, url, token))
        except InvalidApiKeyError as invalid:
            raise SetupNeededError(str(invalid)) from None
    return 0


def _export_schema(_: argparse.Namespace) -> int:
    from graphql_api.schema import schema

    sys.stdout.write(schema.as_str() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
