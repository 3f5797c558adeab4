"""Paired output formats: for every value format the API prints, the Python form the resolver
path uses and a SQL form that makes PostgreSQL print the identical text.

Both forms of each pair are the contract; tests/test_formats.py runs each pair through a
real PostgreSQL on edge cases and requires equal text. `sql` arguments are trusted SQL
snippets (a column such as "t.amount", or any expression): they are wrapped in parentheses,
never quoted. Constants that end up inside SQL (type names, enum values) are checked here.

Pairs (Python: value -> text | SQL: snippet -> text expression | output grammar):
- Decimal   decimal_text(Decimal)     | decimal_sql("t.amount")
            -?[0-9]+([.][0-9]+)? in plain notation at the value's own scale
            decimal_text(Decimal(s))  | json_decimal_sql("x->>'weight'")  (decimal text in JSON)
- DateTime  datetime_text(datetime)   | datetime_sql("t.created_at")
            YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00
- ID        global_id("Member", 7)    | global_id_sql("Member", "m.id")
            standard base64 (+/, '=' padded, no newline) of "Type:id"
- cursor    cursor_text([dt, 7])      | cursor_sql([("t.created_at", datetime), ("t.id", int)])
            urlsafe base64 (-_, '=' padded, no newline) of "k1:" + compact JSON array
- enum      enum_text(MemberStatus.X) | enum_sql("m.status", MemberStatus)
            the GraphQL name (upper case)
- email     mask_email(email)         | mask_email_sql("m.email")
            first character + "***@" + everything after the first "@"

Details, each checked by the tests:
- Decimal: `format(value, "f")`, never an exponent; the scale is the value's own (NUMERIC(16,2)
  prints "12.50", "0.00"). Zero never carries a sign (NUMERIC has no negative zero), NaN and
  Infinity print as "NaN", "Infinity", "-Infinity" on both sides.
- DateTime: the instant in UTC, Python's `isoformat()`: six fractional digits, or none when the
  microsecond is 0; year zero-padded to four digits. The SQL form converts with
  `AT TIME ZONE 'UTC'` and formats with an explicit `to_char` pattern, so it does not depend
  on the session's TimeZone or DateStyle. Domain: years 1 to 9999 (all Python can hold; asyncpg
  cannot read other timestamptz values either). Naive datetimes are refused: no instant.
- ID: strawberry relay's GlobalID (`relay/utils.py::to_base64`): `b64encode("Type:id")`.
  PostgreSQL's `encode(..., 'base64')` breaks lines every 76 characters; the SQL form strips them.
- cursor: `urlsafe_b64encode(b"k1:" + json.dumps(values, separators=(",", ":"),
  ensure_ascii=False))`: datetimes as `datetime_text` strings, ints as numbers, text as JSON
  strings. With ensure_ascii=False, Python escapes exactly what PostgreSQL's `to_json(text)`
  escapes (`"`, `\\`, and U+0000-U+001F with the same short forms and lower-case \\u00xx).
- enum: stored values equal the GraphQL names (models/enums.py), so the SQL form is the column
  itself; an enum whose values differ gets a CASE mapping.
- email: `local[:1] + "***@" + domain` split at the first "@"; text without "@" (and NULL)
  passes through. Characters are code points on both sides (an emoji with a skin-tone
  modifier keeps only its first code point).
Every SQL form maps NULL to NULL. No session setting matters (TimeZone, DateStyle, lc_*)
except standard_conforming_strings, which must stay on (the default since 9.1) for the quoted
constants. The forms work in any server encoding (convert_to gives UTF-8 bytes for base64);
tested on UTF8.

Stdlib only on purpose: the bench floor imports this module and must stay light.
SQLAlchemy versions of the SQL forms are in graphql_api/kit/format_expressions.py.
"""

import base64
import enum
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

CURSOR_PREFIX = "k1:"
# to_char pattern printing what datetime.isoformat() prints for a UTC instant with microseconds.
DATETIME_PATTERN = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")

# --- Decimal ---------------------------------------------------------------------------


def decimal_text(value: Decimal) -> str:
    """Plain notation at the value's own scale: format(..., "f") never emits an exponent,
    unlike str(Decimal("0E-8")). Negative zero loses its sign, as in NUMERIC."""
    if value.is_zero():
        value = value.copy_abs()
    return format(value, "f")


def decimal_sql(sql: str) -> str:
    """A NUMERIC expression as text: numeric_out keeps the scale and never uses exponents."""
    return f"({sql})::text"


def json_decimal_sql(sql: str) -> str:
    """A decimal string stored inside JSON (e.g. `item->>'weight'`), as the Python path prints
    it after `Decimal(string)`: through NUMERIC, which reads exponents the way Decimal does."""
    return f"({sql})::numeric::text"


# --- DateTime --------------------------------------------------------------------------


def datetime_text(value: datetime) -> str:
    """ISO 8601 in UTC: `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`."""
    if value.utcoffset() is None:
        raise ValueError(f"a naive datetime names no instant: {value!r}")
    return value.astimezone(UTC).isoformat()


def datetime_sql(sql: str) -> str:
    """A timestamptz expression as datetime_text prints it, whatever the session TimeZone.
    The pattern always prints six fractional digits; isoformat() omits them when all zero."""
    return f"replace(to_char(({sql}) AT TIME ZONE 'UTC', '{DATETIME_PATTERN}'), '.000000', '')"


# --- Global ids (Relay) ----------------------------------------------------------------


def global_id(type_name: str, node_id: object) -> str:
    """strawberry.relay.GlobalID(type_name, str(node_id)) as the API prints it."""
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def global_id_sql(type_name: str, sql: str) -> str:
    """base64 of "Type:" || id, without the line breaks PostgreSQL inserts every 76 chars."""
    prefix = _sql_literal(_graphql_name(type_name) + ":")
    return f"replace(encode(convert_to({prefix} || ({sql})::text, 'UTF8'), 'base64'), E'\\n', '')"


def _graphql_name(name: str) -> str:
    if not _GRAPHQL_NAME.fullmatch(name):
        raise ValueError(f"not a GraphQL type name: {name!r}")
    return name


# --- Keyset cursors --------------------------------------------------------------------


def cursor_text(values: Sequence[Any]) -> str:
    """The opaque cursor of a row whose ordering columns hold `values` (datetime, int, str)."""
    plain = [datetime_text(v) if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(CURSOR_PREFIX.encode() + raw).decode()


def cursor_values(cursor: str) -> Any:
    """The JSON inside a cursor (unchecked: the caller checks arity and types). Raises
    ValueError, binascii.Error or UnicodeError for text that is no cursor of this format."""
    raw = base64.urlsafe_b64decode(cursor.encode("ascii"))
    if not raw.startswith(CURSOR_PREFIX.encode()):
        raise ValueError("unknown cursor version")
    return json.loads(raw[len(CURSOR_PREFIX) :])


def cursor_sql(columns: Sequence[tuple[str, type]]) -> str:
    """The cursor of the current row; `columns` pairs each ordering column's SQL with its
    Python type (datetime, int or str), in ordering order."""
    if not columns:
        raise ValueError("a cursor needs at least one column")
    elements = " || ',' || ".join(_cursor_element_sql(sql, kind) for sql, kind in columns)
    payload = f"'{CURSOR_PREFIX}[' || {elements} || ']'"
    # translate() maps + and / to the urlsafe alphabet and deletes the line breaks.
    return f"translate(encode(convert_to({payload}, 'UTF8'), 'base64'), E'+/\\n', '-_')"


def _cursor_element_sql(sql: str, kind: type) -> str:
    if kind is datetime:
        return f"'\"' || {datetime_sql(sql)} || '\"'"  # isoformat needs no JSON escaping
    if kind is int:
        return f"({sql})::text"
    if kind is str:
        return f"to_json(({sql})::text)::text"
    raise ValueError(f"no cursor format for {kind!r}")


# --- Enums -----------------------------------------------------------------------------


def enum_text(value: enum.Enum) -> str:
    """The GraphQL name of an enum member (strawberry serializes members by name)."""
    return value.name


def enum_sql(sql: str, enum_class: type[enum.Enum]) -> str:
    """A column storing `enum_class` values, as GraphQL names."""
    members = list(enum_class)
    if all(member.value == member.name for member in members):
        return f"({sql})"
    branches = " ".join(
        f"WHEN {_sql_literal(str(m.value))} THEN {_sql_literal(m.name)}" for m in members
    )
    return f"(CASE ({sql}) {branches} END)"


# --- Email masking (AGENT keys) ---------------------------------------------------------


def mask_email(email: str | None) -> str | None:
    """a***@example.org: enough for an agent to recognise, not to contact or leak."""
    if email is None or "@" not in email:
        return email
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_email_sql(sql: str) -> str:
    """mask_email in SQL; least(..., 1) keeps an empty local part empty, as local[:1] does."""
    at = f"strpos(({sql}), '@')"
    return (
        f"(CASE WHEN {at} > 0 THEN left(({sql}), least({at} - 1, 1)) || '***@'"
        f" || substr(({sql}), {at} + 1) ELSE ({sql}) END)"
    )


def _sql_literal(text: str) -> str:
    """A standard-conforming string literal (for constants from code, never request data)."""
    if "\x00" in text:
        raise ValueError("SQL text cannot hold NUL")
    return "'" + text.replace("'", "''") + "'"
