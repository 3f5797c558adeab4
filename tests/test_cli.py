"""`finance-api` explains itself and works from a fresh data directory: every command that
needs a database starts and migrates the embedded PostgreSQL (as `serve` does) and stops it
after, prints only its result, and says in one line what to do when it cannot run.

The commands run as subprocesses on one embedded data directory for the module (never
TEST_DATABASE_URL), so the embedded server starts a handful of times, not once per check."""

import argparse
import asyncio
import os
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import asyncpg
import pytest

from graphql_api.runtime import cli
from graphql_api.runtime.embedded import EmbeddedPostgres
from graphql_api.runtime.migrate import head_revision
from tests.cli_process import data_directory, postgres_processes, run_cli

pytestmark = pytest.mark.lifecycle


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    with data_directory("cli") as directory:
        yield directory


@pytest.fixture(scope="module")
def first_key(data_dir: Path) -> tuple[int, str]:
    """`keys create` as the very first command on the data directory."""
    created = run_cli(data_dir, "keys", "create", "--role", "advisor", "--label", "cli test")
    assert created.returncode == 0, created.stderr
    assert created.stderr == ""
    first_line, token = created.stdout.strip().splitlines()
    assert token.startswith("fgk_")
    key_id = int(first_line.split()[2])
    return key_id, token


def test_version_is_the_installed_package_version(tmp_path: Path) -> None:
    shown = run_cli(tmp_path, "--version")
    assert shown.returncode == 0
    assert shown.stdout.strip() == f"finance-api {metadata.version('finance-graphql')}"


def test_serve_help_gives_each_option_a_description_and_default(tmp_path: Path) -> None:
    shown = run_cli(tmp_path, "serve", "--help")
    assert shown.returncode == 0
    for text in ("(default: 127.0.0.1)", "(default: 8000)", "(default: 1)", "--no-demo", "-v"):
        assert text in shown.stdout, shown.stdout
    assert not (tmp_path / "pgdata").exists(), "--help started the database"


def test_every_option_of_every_command_has_help_with_its_default() -> None:
    """Commands added elsewhere (bench, keys) included: their help either names the default
    itself or gets "(default: …)" from the formatter."""
    for parser in _all_parsers(cli._parser()):
        formatter = parser._get_formatter()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, f"{parser.prog} {action.option_strings or action.dest}: no help"
            if action.option_strings and _has_meaningful_default(action):
                shown = formatter._get_help_string(action) or ""
                assert "default" in shown, f"{parser.prog} {action.option_strings}: {shown}"


def test_keys_work_on_a_fresh_data_directory(data_dir: Path, first_key: tuple[int, str]) -> None:
    key_id, _ = first_key
    listed = run_cli(data_dir, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr == ""
    [line] = [row for row in listed.stdout.splitlines() if row.startswith(f"{key_id}\t")]
    assert line.split("\t")[1:4] == ["ADVISOR", "-", "cli test"]
    assert line.endswith("\t-")

    revoked = run_cli(data_dir, "keys", "revoke", str(key_id))
    assert (revoked.returncode, revoked.stdout.strip()) == (0, f"revoked key {key_id}")
    listed = run_cli(data_dir, "keys", "list")
    [line] = [row for row in listed.stdout.splitlines() if row.startswith(f"{key_id}\t")]
    assert not line.endswith("\t-"), "the key shows no revocation time"
    assert postgres_processes(data_dir) == [], "a one-shot command left PostgreSQL running"


def test_seed_then_member_key(data_dir: Path, first_key: tuple[int, str]) -> None:
    seeded = run_cli(data_dir, "seed", "--demo")
    assert (seeded.returncode, seeded.stdout.strip(), seeded.stderr) == (0, "demo data loaded", "")
    created = run_cli(data_dir, "keys", "create", "--role", "member", "--member", "M-100001")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1].startswith("fgk_")


def test_migrate_is_quiet_and_verbose_shows_alembic(
    data_dir: Path, first_key: tuple[int, str]
) -> None:
    migrated = run_cli(data_dir, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip() == f"database schema at the latest revision ({head_revision()})"
    assert migrated.stderr == ""
    verbose = run_cli(data_dir, "migrate", "-v")
    assert verbose.returncode == 0
    assert "alembic" in verbose.stderr


def test_a_stale_postmaster_pid_does_not_stop_the_next_start(
    data_dir: Path, first_key: tuple[int, str]
) -> None:
    """After a crash or a host restart the pid file can name a live process that is not
    PostgreSQL (here: this test process); it must not be taken for the server."""
    assert postgres_processes(data_dir) == []
    pgdata = data_dir / "pgdata"
    lines = [str(os.getpid()), str(pgdata), "1700000000", "5432", str(pgdata), "", "1 2", "ready"]
    (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")
    listed = run_cli(data_dir, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    assert "cli test" in listed.stdout
    assert postgres_processes(data_dir) == []


def test_an_unmigrated_database_url_says_to_migrate_first(
    data_dir: Path, first_key: tuple[int, str]
) -> None:
    server = EmbeddedPostgres(data_dir)  # held by this process while the CLI runs
    try:
        asyncio.run(_recreate_empty_database(server.url("postgres")))
        for command in (["keys", "list"], ["keys", "create", "--role", "agent"]):
            refused = run_cli(data_dir, *command, env={"DATABASE_URL": server.url("empty")})
            assert refused.returncode == 2, refused.stderr
            assert refused.stderr.strip() == (
                "finance-api: error: the database at DATABASE_URL has no schema yet:"
                " run `finance-api migrate` (as the database owner) first"
            )
    finally:
        server.stop()


def test_unreachable_database_url_and_production_without_one_are_one_line_errors(
    tmp_path: Path,
) -> None:
    unreachable = run_cli(
        tmp_path, "keys", "list", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    )
    assert unreachable.returncode == 2
    assert unreachable.stderr.startswith("finance-api: error: cannot connect to DATABASE_URL")
    assert unreachable.stderr.count("\n") == 1

    production = run_cli(tmp_path, "migrate", env={"FINANCE_API_ENV": "production"})
    assert production.returncode == 2
    assert production.stderr.startswith("finance-api: error: FINANCE_API_ENV=production needs")
    assert production.stderr.count("\n") == 1
    assert not (tmp_path / "pgdata").exists()


async def _recreate_empty_database(admin_url: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute("DROP DATABASE IF EXISTS empty")
        await connection.execute("CREATE DATABASE empty")
    finally:
        await connection.close()


def _all_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                yield from _all_parsers(command)


def _has_meaningful_default(action: argparse.Action) -> bool:
    return action.nargs != 0 and action.default not in (None, "", argparse.SUPPRESS)
