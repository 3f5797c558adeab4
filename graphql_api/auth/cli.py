"""`finance-api keys create|list|revoke`."""

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from graphql_api.auth import service
from graphql_api.config import get_settings
from graphql_api.db import create_engine, create_sessionmaker
from graphql_api.kit.errors import CommandRefusedError
from graphql_api.models import Role

T = TypeVar("T")


def add_keys_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    keys = commands.add_parser("keys", help="manage API keys")
    actions = keys.add_subparsers(required=True, metavar="ACTION")

    create = actions.add_parser("create", help="create a key; prints it once, on the last line")
    create.add_argument(
        "--role", required=True, type=_role, help="ADMIN, ADVISOR, AGENT or MEMBER (any case)"
    )
    create.add_argument("--member", help="member number (required for, and only for, MEMBER)")
    create.add_argument("--label", default="", help="who or what the key is for (default: none)")
    create.set_defaults(handler=_create)

    listing = actions.add_parser(
        "list", help="one line per key: id role member label created revoked"
    )
    listing.set_defaults(handler=_list)

    revoke = actions.add_parser(
        "revoke",
        help="revoke a key; every worker refuses it within FINANCE_API_API_KEY_CACHE_SECONDS (5 s)",
    )
    revoke.add_argument("id", type=int, help="the key's id, as `keys list` shows it")
    revoke.set_defaults(handler=_revoke)


def _role(text: str) -> Role:
    try:
        return Role(text.upper())
    except ValueError:
        raise argparse.ArgumentTypeError(f"unknown role {text!r}") from None


def _with_session(work: Callable[..., Awaitable[T]]) -> T:
    """Run `work` in one transaction as the owner: on the embedded server (started, migrated
    and stopped as `serve` would), or on DATABASE_URL, which must be migrated already."""
    from graphql_api.runtime.lifecycle import owner_database

    settings = get_settings()

    async def run(url: str) -> T:
        engine = create_engine(settings, url, pool_size=1, max_overflow=0)
        try:
            async with create_sessionmaker(engine).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    with owner_database(settings, migrate=False) as url:
        return asyncio.run(run(url))


def _create(args: argparse.Namespace) -> int:
    try:
        key_id, token = _with_session(
            lambda s: service.create_key(
                s, role=args.role, member_number=args.member, label=args.label
            )
        )
    except CommandRefusedError as refused:
        raise SystemExit(f"error: {refused}") from None
    print(f"created key {key_id} ({args.role.value}); it is shown only once:")
    print(token)
    return 0


def _list(_: argparse.Namespace) -> int:
    for key in _with_session(service.list_keys):
        revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
        print(
            f"{key.id}\t{key.role.value}\t{key.member_number or '-'}\t{key.label or '-'}"
            f"\t{key.created_at.isoformat()}\t{revoked}"
        )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    if not _with_session(lambda s: service.revoke_key(s, args.id)):
        raise SystemExit(f"error: no key {args.id}")
    print(f"revoked key {args.id}")
    return 0
