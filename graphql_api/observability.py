"""Request ids and per-request SQL statement counts.

The count is what proves the dataloaders batch (a nested query over 50 members runs as many
statements as over one) and what the benchmark reports per request. Counts nest: the whole
request is counted for metrics and the access log (graphql_api/telemetry) while one operation
is counted for `extensions.sqlStatements`, and each statement adds to both.
"""

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

# The cells of every count in progress in this context, outermost first.
_statement_counts: ContextVar[tuple[list[int], ...]] = ContextVar(
    "sql_statement_counts", default=()
)
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_from(header_value: str | None) -> str:
    """Honour a caller's X-Request-ID when it is sane; otherwise mint one."""
    if header_value and _VALID_REQUEST_ID.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex


def install_statement_counter(engine: AsyncEngine) -> None:
    """Idempotent: both the query stats and telemetry want it, and each statement counts once."""
    target = engine.sync_engine
    if not event.contains(target, "before_cursor_execute", _count_statement):
        event.listen(target, "before_cursor_execute", _count_statement)


def _count_statement(*_: Any) -> None:
    for cell in _statement_counts.get():
        cell[0] += 1


@contextmanager
def counting_statements() -> Iterator[list[int]]:
    """Count statements run by this task and every task it spawns (they copy the context
    and share the same mutable cell)."""
    cell = [0]
    token = _statement_counts.set((*_statement_counts.get(), cell))
    try:
        yield cell
    finally:
        _statement_counts.reset(token)
