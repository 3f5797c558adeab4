"""Keyset pagination: opaque cursors over an ordering, validated page requests.

A cursor encodes the ordering columns' values of the last row seen, so the next page is
`WHERE (ordering) > / < (cursor values)` on an index, never OFFSET.
"""

import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from graphql_api.kit.errors import InvalidCursorError, InvalidPageRequestError
from graphql_api.kit.formats import cursor_text, cursor_values
from graphql_api.kit.text import MAX_BIGINT, in_timestamptz_range, storable

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
RowT = TypeVar("RowT")


@dataclass(frozen=True)
class Ordering:
    """A total order over rows: the last column must be unique (the primary key)."""

    columns: tuple[InstrumentedAttribute[Any], ...]
    descending: bool

    def order_by(self) -> list[ColumnElement[Any]]:
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def after(self, values: tuple[Any, ...]) -> ColumnElement[bool]:
        """Rows strictly after `values` in this order (row-value comparison uses the index)."""
        left = tuple_(*self.columns)
        right = tuple_(*values)
        return left < right if self.descending else left > right

    def key_of(self, row: Any) -> tuple[Any, ...]:
        return tuple(getattr(row, c.key) for c in self.columns)


def newest_first(model: Any) -> Ordering:
    return Ordering((model.created_at, model.id), descending=True)


@dataclass(frozen=True)
class PageRequest:
    """A validated forward page: `limit` rows after the decoded cursor `after`."""

    limit: int
    after: tuple[Any, ...] | None = None

    @classmethod
    def create(cls, first: int | None, after: str | None, ordering: Ordering) -> "PageRequest":
        limit = DEFAULT_PAGE_SIZE if first is None else first
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidPageRequestError(
                f"`first` must be between 1 and {MAX_PAGE_SIZE}, got {limit}.", field=("first",)
            )
        return cls(limit=limit, after=decode_cursor(after, ordering) if after else None)


def encode_cursor(values: Sequence[Any]) -> str:
    """The cursor text format lives in kit/formats.py, next to its SQL form."""
    return cursor_text(values)


def decode_cursor(cursor: str, ordering: Ordering) -> tuple[Any, ...]:
    try:
        values = cursor_values(cursor)
        if not isinstance(values, list) or len(values) != len(ordering.columns):
            raise ValueError("wrong cursor arity")
        return tuple(_coerce(v, c) for v, c in zip(values, ordering.columns, strict=True))
    # RecursionError: a forged cursor of thousands of nested JSON arrays.
    except (ValueError, TypeError, UnicodeError, binascii.Error, RecursionError) as error:
        raise InvalidCursorError(
            "`after` is not a cursor from this connection.", field=("after",)
        ) from error


def _coerce(value: Any, column: InstrumentedAttribute[Any]) -> Any:
    python_type = column.type.python_type
    if python_type is datetime and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if not in_timestamptz_range(parsed):
            raise ValueError("cursor timestamp without offset or out of range")
        return parsed
    if python_type is int and isinstance(value, int) and not isinstance(value, bool):
        if not 0 < value <= MAX_BIGINT:
            raise ValueError("cursor id out of range")
        return value
    if python_type is str and isinstance(value, str) and storable(value):
        return value
    raise ValueError(f"cursor value of the wrong type for {column.key}")


@dataclass(frozen=True)
class Page(Generic[RowT]):
    """Rows of one page, plus whether more follow. `rows` never exceeds the limit."""

    rows: list[RowT]
    has_next_page: bool
    has_previous_page: bool

    @classmethod
    def from_overfetch(cls, rows: list[RowT], request: PageRequest) -> "Page[RowT]":
        """Queries fetch limit + 1 rows: the extra one only proves a next page exists."""
        return cls(
            rows=rows[: request.limit],
            has_next_page=len(rows) > request.limit,
            has_previous_page=request.after is not None,
        )
