"""Each paired format (graphql_api/kit/formats.py) through a real PostgreSQL: the Python form of
the value asyncpg reads must equal the text the SQL form prints, character for character.
The SQLAlchemy forms (kit/format_expressions.py) must print the same text as the SQL ones."""

import asyncio
import enum
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from sqlalchemy import ColumnElement, Numeric, literal_column
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.sqltypes import Enum as EnumType
from strawberry.relay.utils import to_base64

from graphql_api.kit import format_expressions as sqla
from graphql_api.kit import formats
from graphql_api.kit.pagination import decode_cursor
from graphql_api.members.repository import MEMBER_ORDER
from graphql_api.models import Base, Role
from graphql_api.models import enums as model_enums
from tests.graphql_client import GraphQLClient

MAX_BIGINT = 2**63 - 1
SESSION_ZONES = ["UTC", "Asia/Kathmandu", "America/St_Johns", "Pacific/Kiritimati"]


def fetch(url: str, sql: str, *args: Any, zone: str = "UTC") -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(url, server_settings={"TimeZone": zone})
        try:
            rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
            return rows
        finally:
            await connection.close()

    return asyncio.run(run())


def sqla_text(expression: ColumnElement[Any]) -> str:
    """An expression as SQL text, constants inlined (they come from code, not requests)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    compiled = expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return str(compiled)


V: ColumnElement[Any] = literal_column("v")
C: ColumnElement[Any] = literal_column("c")
I: ColumnElement[Any] = literal_column("i")  # noqa: E741


# --- Decimal ---------------------------------------------------------------------------


def _numeric_columns() -> set[tuple[int, int]]:
    found = {
        (column.type.precision, column.type.scale)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, Numeric)
        and column.type.precision is not None
        and column.type.scale is not None
    }
    assert {(16, 2), (12, 2), (5, 4)} <= found  # money, risk scores, confidence
    return found


def _edge_values(precision: int, scale: int) -> list[str]:
    largest = "9" * (precision - scale) + "." + "9" * scale
    smallest = "0." + "0" * (scale - 1) + "1"
    return ["0", "-0", "-0.00", largest, "-" + largest, smallest, "-" + smallest, "1.5", "7"]


@pytest.mark.parametrize(("precision", "scale"), sorted(_numeric_columns()))
def test_decimal_of_every_numeric_column(database_url: str, precision: int, scale: int) -> None:
    sql = (
        f"SELECT v, {formats.decimal_sql('v')} AS text, {sqla_text(sqla.decimal_expr(V))} AS sqla"
        f" FROM (SELECT x::numeric({precision}, {scale}) AS v FROM unnest($1::text[]) x) t"
    )
    rows = fetch(database_url, sql, _edge_values(precision, scale))
    for row in rows:
        assert formats.decimal_text(row["v"]) == row["text"] == row["sqla"]
    assert rows[0]["text"] == "0." + "0" * scale  # the column's scale is kept
    assert rows[3]["text"] == _edge_values(precision, scale)[3]


UNCONSTRAINED = ["0", "-0", "0E-8", "1E+30", "-1.000", "123456789012345678901234567890.123456789",
                 "1e-20", "NaN", "Infinity", "-Infinity"]  # fmt: skip


def test_decimal_without_a_declared_scale(database_url: str) -> None:
    sql = f"SELECT v, {formats.decimal_sql('v')} AS text FROM unnest($1::numeric[]) v"
    rows = fetch(database_url, sql, UNCONSTRAINED)
    for row in rows:
        assert formats.decimal_text(row["v"]) == row["text"]
    assert [r["text"] for r in rows[:4]] == ["0", "0", "0.00000000", "1" + "0" * 30]


WEIGHTS = ["0.4500", "1", "0.0001", "0", "-0.0", "1E+2", "1.00E+1", "0E-8", " 1.5 ", "3.14159265"]


def test_decimal_strings_inside_json(database_url: str) -> None:
    """Allocation weights: Decimal(string) in Python, ->>'weight' through NUMERIC in SQL."""
    text_form = formats.json_decimal_sql("jsonb_build_object('weight', w)->>'weight'")
    rows = fetch(database_url, f"SELECT w, {text_form} AS text FROM unnest($1::text[]) w", WEIGHTS)
    for row in rows:
        assert formats.decimal_text(Decimal(row["w"])) == row["text"], row["w"]


def test_negative_zero_loses_its_sign_as_in_numeric() -> None:
    assert formats.decimal_text(Decimal("-0.00")) == "0.00"
    assert formats.decimal_text(Decimal("-0E-8")) == "0.00000000"


# --- DateTime --------------------------------------------------------------------------

INSTANTS = [
    "2024-01-01 00:00:00+00", "2024-01-01 00:00:00.000001+00", "2024-01-01 00:00:00.999999+00",
    "2024-06-30 23:59:59.5+05:45", "2024-03-10 02:30:00.25-03:30", "2000-02-29 12:00:00+14",
    "0001-01-01 00:00:00+00", "0999-12-31 23:59:59.123+00", "0012-05-06 07:08:09-01",
    "9999-12-31 23:59:59.999999+00", "1900-01-01 00:00:00 Europe/Amsterdam",
    "1969-12-31 23:59:59.999999+00", "2038-01-19 03:14:08+00",
]  # fmt: skip


@pytest.mark.parametrize("zone", SESSION_ZONES)
def test_datetime_of_stored_instants_whatever_the_session_zone(
    database_url: str, zone: str
) -> None:
    sql = (
        f"SELECT v, {formats.datetime_sql('v')} AS text, {sqla_text(sqla.datetime_expr(V))} AS sqla"
        " FROM (SELECT x::timestamptz AS v FROM unnest($1::text[]) x) t"
    )
    rows = fetch(database_url, sql, INSTANTS, zone=zone)
    for row in rows:
        assert row["v"].tzinfo is not None
        assert formats.datetime_text(row["v"]) == row["text"] == row["sqla"]
        # What strawberry's DateTime scalar prints today for the value asyncpg reads.
        assert row["v"].isoformat() == row["text"]
    texts = [r["text"] for r in rows]
    assert texts[:3] == [
        "2024-01-01T00:00:00+00:00",
        "2024-01-01T00:00:00.000001+00:00",
        "2024-01-01T00:00:00.999999+00:00",
    ]
    assert texts[3] == "2024-06-30T18:14:59.500000+00:00"
    assert texts[6:8] == ["0001-01-01T00:00:00+00:00", "0999-12-31T23:59:59.123000+00:00"]


OFFSET_VALUES = [
    datetime(2024, 6, 30, 23, 59, 59, 0, tzinfo=timezone(timedelta(hours=5, minutes=45))),
    datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
    datetime(999, 1, 1, 12, 0, 0, 999999, tzinfo=timezone(timedelta(hours=14))),
    datetime(2024, 1, 1, tzinfo=UTC),
]


def test_datetime_of_python_values_with_offsets(database_url: str) -> None:
    sql = f"SELECT {formats.datetime_sql('v')} AS text FROM unnest($1::timestamptz[]) v"
    rows = fetch(database_url, sql, OFFSET_VALUES, zone="America/St_Johns")
    assert [formats.datetime_text(v) for v in OFFSET_VALUES] == [r["text"] for r in rows]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        formats.datetime_text(datetime(2024, 1, 1))


def test_null_stays_null_in_every_sql_form(database_url: str) -> None:
    forms = [
        formats.decimal_sql("NULL::numeric"),
        formats.datetime_sql("NULL::timestamptz"),
        formats.global_id_sql("Member", "NULL::bigint"),
        formats.mask_email_sql("NULL::text"),
        formats.enum_sql("NULL::text", LowerCase),
    ]
    (row,) = fetch(database_url, "SELECT " + ", ".join(forms))
    assert list(row.values()) == [None] * len(forms)


# --- Global ids ------------------------------------------------------------------------

NODE_IDS = [1, 9, 10, 2**31, MAX_BIGINT, -5]
TYPE_NAMES = ["Member", "LoanApplication", "Feedback", "_T", "A" * 120]


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_global_ids(database_url: str, type_name: str) -> None:
    sql = (
        f"SELECT v, {formats.global_id_sql(type_name, 'v')} AS text,"
        f" {sqla_text(sqla.global_id_expr(type_name, V))} AS sqla FROM unnest($1::bigint[]) v"
    )
    for row in fetch(database_url, sql, NODE_IDS):
        python_form = formats.global_id(type_name, row["v"])
        assert python_form == row["text"] == row["sqla"]
        assert python_form == to_base64(type_name, str(row["v"]))  # strawberry relay's own
        assert "\n" not in python_form


def test_global_id_sql_refuses_what_is_no_type_name() -> None:
    for bad in ["Member'; --", "", "1Member", "Mem ber"]:
        with pytest.raises(ValueError, match="GraphQL type name"):
            formats.global_id_sql(bad, "m.id")


# --- Cursors ---------------------------------------------------------------------------

MEMBER_NUMBERS = [
    "M-100001", "M-ü", "M-日本", "M-👍🏽", 'M-"quoted"', "M-back\\slash", "M-\x01\x1f\x7f",
    "M-\n\t\r\b\f", "M-\u2028\u2029", "M-" + "é" * 30, "'; DROP TABLE x; --",
]  # fmt: skip


def test_text_cursors(database_url: str) -> None:
    columns = [("v", str)]
    sql = (
        f"SELECT v, {formats.cursor_sql(columns)} AS text,"
        f" {sqla_text(sqla.cursor_expr([(V, str)]))} AS sqla FROM unnest($1::text[]) v"
    )
    for row in fetch(database_url, sql, MEMBER_NUMBERS):
        python_form = formats.cursor_text([row["v"]])
        assert python_form == row["text"] == row["sqla"], row["v"]
        assert decode_cursor(row["text"], MEMBER_ORDER) == (row["v"],)


def test_keyset_cursors(database_url: str) -> None:
    columns = [("c", datetime), ("i", int)]
    sql = (
        f"SELECT c, i, {formats.cursor_sql(columns)} AS text,"
        f" {sqla_text(sqla.cursor_expr([(C, datetime), (I, int)]))}"
        " AS sqla FROM unnest($1::text[]::timestamptz[], $2::bigint[]) AS t(c, i)"
    )
    ids = [1, MAX_BIGINT, 42, 7] + [10**12] * (len(INSTANTS) - 4)
    rows = fetch(database_url, sql, INSTANTS, ids, zone="Asia/Kathmandu")
    for row in rows:
        python_form = formats.cursor_text([row["c"], row["i"]])
        assert python_form == row["text"] == row["sqla"]
    assert any(len(row["text"]) > 76 for row in rows)  # past PostgreSQL's base64 line width
    assert formats.cursor_values(rows[1]["text"]) == [
        "2024-01-01T00:00:00.000001+00:00",
        MAX_BIGINT,
    ]


def test_old_ascii_escaped_cursors_still_decode() -> None:
    """Cursors issued before ensure_ascii=False escaped non-ASCII; JSON reads both."""
    import base64
    import json

    old = base64.urlsafe_b64encode(b"k1:" + json.dumps(["M-\u00fc"]).encode()).decode()
    assert decode_cursor(old, MEMBER_ORDER) == ("M-ü",)


# --- Enums -----------------------------------------------------------------------------


class LowerCase(enum.Enum):
    ACTIVE = "active"
    ON_HOLD = "on hold"
    QUOTED = "it's"


def _model_enums() -> list[type[enum.Enum]]:
    return [
        value
        for value in vars(model_enums).values()
        if isinstance(value, type) and issubclass(value, enum.Enum) and value is not enum.StrEnum
    ]


@pytest.mark.parametrize("enum_class", [*_model_enums(), LowerCase])
def test_enum_names(database_url: str, enum_class: type[enum.Enum]) -> None:
    sql = (
        f"SELECT v, {formats.enum_sql('v', enum_class)} AS text,"
        f" {sqla_text(sqla.enum_expr(V, enum_class))} AS sqla FROM unnest($1::text[]) v"
    )
    members = list(enum_class)
    rows = fetch(database_url, sql, [str(m.value) for m in members])
    for member, row in zip(members, rows, strict=True):
        assert formats.enum_text(member) == row["text"] == row["sqla"] == member.name


def test_stored_enum_values_are_the_graphql_names() -> None:
    """Why the SQL form of every model enum is the bare column."""
    stored = [
        column.type.enum_class
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, EnumType)
    ]
    assert Role in stored
    for enum_class in stored:
        assert enum_class is not None
        assert formats.enum_sql("c", enum_class) == "(c)"


# --- Email masking ---------------------------------------------------------------------

EMAILS = [
    "ada.quill@example.org", "a@b", "@nolocal.org", "ü@exämple.org", "👍🏽x@example.org",
    "日本@例え.jp", "a@b@c", "ab@", "", "no-at-sign", "'q'@x.org", "x" * 300 + "@y.org",
]  # fmt: skip


def test_email_masking(database_url: str) -> None:
    sql = (
        f"SELECT v, {formats.mask_email_sql('v')} AS text,"
        f" {sqla_text(sqla.mask_email_expr(V))} AS sqla FROM unnest($1::text[]) v"
    )
    for row in fetch(database_url, sql, EMAILS):
        assert formats.mask_email(row["v"]) == row["text"] == row["sqla"], row["v"]
    assert formats.mask_email("👍🏽x@example.org") == "👍***@example.org"
    assert formats.mask_email("@nolocal.org") == "***@nolocal.org"


# --- The resolver path prints the same text ---------------------------------------------

MEMBER_QUERY = """query ($number: String!) { member(memberNumber: $number) {
  id email status createdAt updatedAt
  pensionAccount { contributionBalance lastSyncedAt }
  loanApplications(first: 3) { edges { cursor node { id amount riskScore decision createdAt } } }
} }"""

MEMBER_SQL = f"""SELECT {formats.global_id_sql("Member", "m.id")} AS id,
    m.email, {formats.mask_email_sql("m.email")} AS masked,
    {formats.enum_sql("m.status", model_enums.MemberStatus)} AS status,
    {formats.datetime_sql("m.created_at")} AS created_at,
    {formats.datetime_sql("m.updated_at")} AS updated_at,
    {formats.decimal_sql("pa.contribution_balance")} AS balance,
    {formats.datetime_sql("pa.last_synced_at")} AS last_synced_at
FROM members m LEFT JOIN pension_accounts pa ON pa.member_id = m.id
WHERE m.member_number = $1"""

LOANS_SQL = f"""SELECT {formats.cursor_sql([("l.created_at", datetime), ("l.id", int)])} AS cursor,
    {formats.global_id_sql("LoanApplication", "l.id")} AS id,
    {formats.decimal_sql("l.amount")} AS amount, {formats.decimal_sql("l.risk_score")} AS risk,
    {formats.enum_sql("l.decision", model_enums.LoanDecision)} AS decision,
    {formats.datetime_sql("l.created_at")} AS created_at
FROM loan_applications l JOIN members m ON m.id = l.member_id
WHERE m.member_number = $1 ORDER BY l.created_at DESC, l.id DESC LIMIT 3"""


def test_http_output_matches_the_sql_forms(
    demo_loaded: str, gql_as: dict[Role, GraphQLClient]
) -> None:
    (number,) = [
        r["member_number"]
        for r in fetch(
            demo_loaded,
            "SELECT m.member_number FROM members m JOIN pension_accounts pa ON pa.member_id = m.id"
            " WHERE m.email IS NOT NULL AND (SELECT count(*) FROM loan_applications l"
            " WHERE l.member_id = m.id) >= 2 ORDER BY m.member_number LIMIT 1",
        )
    ]
    admin = gql_as[Role.ADMIN].ok(MEMBER_QUERY, {"number": number})["member"]
    agent = gql_as[Role.AGENT].ok(MEMBER_QUERY, {"number": number})["member"]
    (row,) = fetch(demo_loaded, MEMBER_SQL, number, zone="Asia/Kathmandu")
    assert admin["id"] == row["id"]
    assert (admin["email"], agent["email"]) == (row["email"], row["masked"])
    assert admin["status"] == row["status"]
    assert (admin["createdAt"], admin["updatedAt"]) == (row["created_at"], row["updated_at"])
    account = admin["pensionAccount"]
    assert (account["contributionBalance"], account["lastSyncedAt"]) == (
        row["balance"],
        row["last_synced_at"],
    )
    loans = fetch(demo_loaded, LOANS_SQL, number, zone="America/St_Johns")
    edges = admin["loanApplications"]["edges"]
    assert len(edges) == len(loans) >= 2
    for edge, loan in zip(edges, loans, strict=True):
        node = edge["node"]
        assert edge["cursor"] == loan["cursor"]
        assert (node["id"], node["amount"], node["riskScore"]) == (
            loan["id"],
            loan["amount"],
            loan["risk"],
        )
        assert (node["decision"], node["createdAt"]) == (loan["decision"], loan["created_at"])


def test_the_schema_prints_through_these_formats() -> None:
    from graphql_api.graph.scalars import serialize_decimal
    from graphql_api.schema import schema

    date_time = schema._schema.get_type("DateTime")
    decimal = schema._schema.get_type("Decimal")
    assert getattr(date_time, "serialize", None) is formats.datetime_text
    assert getattr(decimal, "serialize", None) is serialize_decimal
    assert serialize_decimal(Decimal("-0.0")) == formats.decimal_text(Decimal("-0.0")) == "0.0"
