"""The SQL forms of graphql_api/kit/formats.py as SQLAlchemy expressions (same SQL, same text).

Kept apart from formats.py so the bench floor, which imports that module, never loads
SQLAlchemy. Constants travel as bind parameters; tests/test_formats.py checks each expression
against its Python form.
"""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, case, cast, func, literal

from graphql_api.kit import formats


def decimal_expr(column: ColumnElement[Any]) -> ColumnElement[str]:
    return cast(column, Text)


def datetime_expr(column: ColumnElement[Any]) -> ColumnElement[str]:
    in_utc = func.timezone("UTC", column)  # the function form of `AT TIME ZONE 'UTC'`
    return func.replace(func.to_char(in_utc, formats.DATETIME_PATTERN), ".000000", "", type_=Text)


def global_id_expr(type_name: str, column: ColumnElement[Any]) -> ColumnElement[str]:
    formats.global_id_sql(type_name, "0")  # validates the name the same way
    text = literal(f"{type_name}:", Text) + cast(column, Text)
    return _base64(text, "\n", "")


def cursor_expr(columns: list[tuple[ColumnElement[Any], type]]) -> ColumnElement[str]:
    if not columns:
        raise ValueError("a cursor needs at least one column")
    payload: ColumnElement[str] = literal(f"{formats.CURSOR_PREFIX}[", Text)
    for index, (column, kind) in enumerate(columns):
        if index:
            payload = payload + literal(",", Text)
        payload = payload + _cursor_element(column, kind)
    return _base64(payload + literal("]", Text), "+/\n", "-_")


def _cursor_element(column: ColumnElement[Any], kind: type) -> ColumnElement[str]:
    if kind is datetime:
        return literal('"', Text) + datetime_expr(column) + literal('"', Text)
    if kind is int:
        return cast(column, Text)
    if kind is str:
        return cast(func.to_json(cast(column, Text)), Text)
    raise ValueError(f"no cursor format for {kind!r}")


def _base64(text: ColumnElement[str], drop: str, into: str) -> ColumnElement[str]:
    encoded = func.encode(func.convert_to(text, "UTF8"), "base64")
    return func.translate(encoded, drop, into, type_=Text)


def enum_expr(column: ColumnElement[Any], enum_class: type[enum.Enum]) -> ColumnElement[str]:
    members = list(enum_class)
    if all(member.value == member.name for member in members):
        return cast(column, Text)
    return case({str(m.value): m.name for m in members}, value=column)


def mask_email_expr(column: ColumnElement[Any]) -> ColumnElement[str]:
    at = func.strpos(column, "@")
    first = func.left(column, func.least(at - 1, 1), type_=Text)
    masked = first + "***@" + func.substr(column, at + 1, type_=Text)
    return case((at > 0, masked), else_=column)
