"""Request ids and per-request SQL statement counts.

The count is what proves the dataloaders batch (a nested query over 50 members runs as many
statements as over one) and what the benchmark reports per request.
"""

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_statement_count: ContextVar[list[int] | None] = ContextVar("sql_statement_count", default=None)
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_from(header_value: str | None) -> str:
    """Honour a caller's X-Request-ID when it is sane; otherwise mint one."""
    if header_value and _VALID_REQUEST_ID.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex


def install_statement_counter(engine: AsyncEngine) -> None:
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)


def _count_statement(*_: Any) -> None:
    counter = _statement_count.get()
    if counter is not None:
        counter[0] += 1


@contextmanager
def counting_statements() -> Iterator[list[int]]:
    """Count statements run by this task and every task it spawns (they copy the context
    and share the same mutable cell)."""
    cell = [0]
    token = _statement_count.set(cell)
    try:
        yield cell
    finally:
        _statement_count.reset(token)
