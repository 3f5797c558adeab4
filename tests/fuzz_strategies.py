"""What the GraphQL fuzz suite (tests/test_fuzz_graphql.py) feeds schemathesis: a strategy for
the custom `Decimal` scalar, and dictionaries that steer some generated arguments to rows that
exist, so mutations get past "not found" into validation, scoring and the database.

Everything here is plain data or a Hypothesis strategy; the test module registers them.
"""

import base64
import json
from decimal import Decimal
from typing import Any, Final

import graphql
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from graphql_api.graph.scalars import MAX_DECIMAL_PLACES
from graphql_api.runtime.paths import data_dir
from tests.conftest import MEMBER_KEY_OWNER

# Boundaries the schema documents (loan amount, income, portfolio amount, weights) and the
# scalar's own limits (20 integer digits, 6 places), on both sides.
EDGE_DECIMALS: Final = (
    "0",
    "0.00",
    "-0",
    "0.0001",
    "0.00001",
    "0.000001",
    "1",
    "1.0000",
    "0.9999",
    "100000000.00",
    "100000000.01",
    "1000000000.00",
    "1000000000.01",
    "10000000000.00",
    "10000000000.01",
    "99999999999999999999.999999",
    "-99999999999999999999.999999",
    "-0.01",
    "-1",
)

# Strings the scalar must refuse as a validation error (never a 500): exponents, NaN and
# infinities, signs and spaces, separators, other numerals, too many digits, control bytes.
HOSTILE_DECIMALS: Final = (
    "",
    " ",
    ".",
    "-",
    "1.",
    ".5",
    "1e5",
    "1E+2",
    "1e-400",
    "1e400",
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "+100.00",
    " 100.00",
    "100.00 ",
    "100,00",
    "1,000.00",
    "1_000",
    "0x10",
    "0b101",
    "00.5",
    "--1",
    "1.2.3",
    "1.0000001",
    "1" * 21,
    "9" * 400,
    "0." + "0" * 400 + "1",
    "\uff11\uff12",  # fullwidth digits
    "\u0661\u0662\u0663",  # Arabic-Indic digits
    "\u00b2",  # superscript two: str.isdigit() says yes
    "12\u0000",
    "\u202e12",
    "12.00\n",
    "'; DROP TABLE loan_applications; --",
    "null",
    "true",
    "[]",
    "{}",
)


def _plain(value: Decimal) -> str:
    return format(value, "f")


def plain_decimals() -> st.SearchStrategy[str]:
    """Valid plain-notation strings: amounts in cents (mostly within the documented limits,
    so writes go through), weights to 4 places, and any scale from -1000 to 20 digits."""
    money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000000"), places=2)
    weights = st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=4)
    wide = st.integers(min_value=0, max_value=MAX_DECIMAL_PLACES).flatmap(
        lambda scale: st.decimals(
            min_value=Decimal("-1000"), max_value=Decimal("99999999999999999999"), places=scale
        )
    )
    return st.one_of(money, weights, wide).map(_plain)


def decimal_literals() -> st.SearchStrategy[graphql.ValueNode]:
    """Literals for the `Decimal` scalar. Valid strings are drawn most often, so that inputs
    with two Decimal fields still reach the resolvers; the rest is edges, hostile strings and
    non-string literals (Int, Float, Boolean, Enum, list, object), all of which the scalar
    must refuse as a validation error."""
    strings = st.one_of(
        plain_decimals(),
        plain_decimals(),
        st.sampled_from(EDGE_DECIMALS),
        st.sampled_from(HOSTILE_DECIMALS),
    ).map(nodes.String)
    not_strings = st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.booleans().map(nodes.Boolean),
        st.just(nodes.Enum("NaN")),
        st.just(nodes.List([nodes.String("1.00")])),
        st.just(nodes.Object([])),
    )
    return st.one_of(strings, strings, strings, strings, not_strings)


# Instants the DateTime scalar must take (extremes of the calendar and of offsets) or refuse.
EDGE_DATETIMES: Final = (
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59.999999+00:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2024-02-29T12:00:00Z",
    "2024-06-01",
    "2024-06-01T12:00:00",
)
HOSTILE_DATETIMES: Final = (
    "",
    "now",
    "2023-02-29T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-06-01T24:00:01Z",
    "2024-06-01T12:00:00+25:00",
    "10000-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    "0000-00-00T00:00:00Z",
    "2024-06-01T12:00:00\u0000",
    "\uff12\uff10\uff12\uff14-06-01",
    "1" * 400,
)


def datetime_literals() -> st.SearchStrategy[graphql.ValueNode]:
    """Literals for `DateTime` (the audit log filter): valid instants across the calendar,
    edges, strings that are no instant, and non-string literals."""
    valid = st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat())
    strings = st.one_of(
        valid, valid, st.sampled_from(EDGE_DATETIMES), st.sampled_from(HOSTILE_DATETIMES)
    ).map(nodes.String)
    not_strings = st.one_of(st.integers().map(nodes.Int), st.just(nodes.Float(1.5e9)))
    return st.one_of(strings, strings, strings, not_strings)


def global_id(type_name: str, row_id: int) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def _demo_counts() -> dict[str, int]:
    """Rows per kind in data/demo.json: the fuzz database is the session database, which is
    filled with exactly the demo data first, so its ids run from 1 to these counts."""
    members = json.loads((data_dir() / "demo.json").read_text(encoding="utf-8"))["members"]
    return {
        "Member": len(members),
        "Portfolio": sum(len(m["portfolios"]) for m in members),
        "Prediction": sum(len(m["predictions"]) for m in members),
        "LoanApplication": sum(len(m["loan_applications"]) for m in members),
    }


# Member numbers for the generated `memberNumber` arguments: the MEMBER key's own member,
# a few other demo members, and near misses. Never the richest or any number another test
# creates; createMember only ever gets CONFLICT for these.
DEMO_MEMBER_NUMBERS: Final = (MEMBER_KEY_OWNER, "M-100003", "M-100017", "M-100042")
NEAR_MISS_MEMBER_NUMBERS: Final = ("m-100010", "M-100010 ", "M-999999", "M-100010\u0000")
# Members the fuzz creates have numbers starting with Z, so they sort after the demo members
# (M-...) and those other tests create (T-...): tests that read `members(first: 5)` still
# see demo members only.
# createMember: its memberNumber always comes from here (random strings such as "0" would
# be valid and sort first): fresh numbers, so some creations go through, a taken one, and
# malformed ones. The emails include a case variant, a demo member's address (CONFLICT)
# and malformed ones.
NEW_MEMBER_NUMBERS: Final = (
    "Z-FZC-1",
    "Z-FZC-2",
    "z_fzc.3",
    "Z-FZC-" + "9" * 26,
    "Z-FZC-" + "9" * 27,
    MEMBER_KEY_OWNER,
    "",
    "Z FZC",
    "Z-FZC-1'; DROP TABLE members; --",
    "\uff3a-FZC-1",
    "Z-FZC-1\u0000",
)
NEW_MEMBER_EMAILS: Final = (
    "fuzz.one@example.org",
    "FUZZ.ONE@EXAMPLE.ORG",
    "fuzz.two+tag@example.org",
    "soren.yarrow.100010@example.org",
    "not-an-email",
    "fuzz@@example.org",
    "fuzz@example.org\u0000",
)
# Always from here rather than random text: a created member's name is searchable, and the
# hostile-input suite expects searches for "%", "_" and "\\" to find no member at all.
NEW_MEMBER_NAMES: Final = (
    "Fuzz Person",
    "Zoë Ñúñez-O'Brien",
    "Robert'); DROP TABLE members; --",
    "<script>alert(1)</script>",
    "\U0001f600 Emoji",
    "\u202eReversed",
    " ",
    "\u200b",
    "Fuzz\u0000Null",
    "x" * 200,
    "x" * 201,
)
# Only the fuzz sandbox knows these (see SANDBOX_MEMBERS), so syncMember creates or updates
# them and never rewrites a demo member other tests read.
SYNC_MEMBER_NUMBERS: Final = ("Z-FZ-1", "Z-FZ-2", "Z-FZ-3")
SANDBOX_MEMBERS: Final = (
    {
        "member_number": "Z-FZ-1",
        "full_name": "Fuzz One",
        "status": "active",
        "contribution_balance": 1234.56,
        "currency": "USD",
    },
    {
        "member_number": "Z-FZ-2",
        "full_name": "Zoë Ñúñez-O'Brien",
        "status": "retired",
        "contribution_balance": 0,
        "currency": "EUR",
    },
    {
        "member_number": "Z-FZ-3",
        "full_name": "F",
        "status": "suspended",
        "contribution_balance": 99999999.99,
        "currency": "USD",
    },
)


def schemathesis_config(seed: int) -> dict[str, Any]:
    """The schemathesis configuration (as `schemathesis.toml` would hold it): a fixed seed and
    dictionary bindings for the arguments that name rows. Each binding applies with a
    probability, so the generator's own (random) values still get their share."""
    counts = _demo_counts()
    ids = {
        kind: [global_id(kind, row_id) for row_id in range(1, count + 1)]
        for kind, count in counts.items()
    }
    nodes_ = [node_id for kind in ids.values() for node_id in kind[:5]]
    nodes_ += [global_id("ApiKey", 1), global_id("Portfolio", 10**12), "not-base64"]
    members = [*DEMO_MEMBER_NUMBERS, *NEAR_MISS_MEMBER_NUMBERS]
    return {
        "seed": seed,
        # Positive mode only: negative mode sends documents graphql-core itself refuses
        # (missing arguments, wrong literal kinds), which only exercise the library; the
        # hostile values that matter here come from the scalar strategies above.
        "generation": {"mode": "positive"},
        "dictionaries": {
            "members": {"values": members},
            "sync-members": {"values": [*SYNC_MEMBER_NUMBERS, *DEMO_MEMBER_NUMBERS[:1]]},
            "portfolios": {"values": ids["Portfolio"] + [global_id("Prediction", 1)]},
            "predictions": {"values": ids["Prediction"] + [global_id("Portfolio", 1)]},
            "nodes": {"values": nodes_},
            "page-sizes": {"values": [1, 2, 20, 100]},
            "years": {"values": [0, 1, 6, 80, 81, -1]},
            "new-members": {"values": list(NEW_MEMBER_NUMBERS)},
            "emails": {"values": list(NEW_MEMBER_EMAILS)},
            "names": {"values": list(NEW_MEMBER_NAMES)},
            # Hypothesis favours "", which the 1-200 character rule refuses with the rest.
            "idempotency-keys": {"values": ["fz-key-1", "fz-key-2", "k" * 200, "k" * 201]},
        },
        "parameters": {
            "*.*.memberNumber": _binding("members", 0.7),
            "*.*.input.memberNumber": _binding("members", 0.7),
            "*.*.filter.memberNumber": _binding("members", 0.5),
            "Mutation.syncMember.input.memberNumber": _binding("sync-members", 0.7),
            "*.*.input.portfolioId": _binding("portfolios", 0.8),
            "*.*.input.predictionId": _binding("predictions", 0.8),
            "Query.node.id": _binding("nodes", 0.8),
            # Random Ints are almost never 1-100, and an out-of-range page refuses the query.
            "*.*.first": _binding("page-sizes", 0.6),
            "*.*.input.employmentYears": _binding("years", 0.6),
            "Mutation.createMember.input.memberNumber": _binding("new-members", 1.0),
            "Mutation.createMember.input.email": _binding("emails", 0.7),
            "Mutation.createMember.input.fullName": _binding("names", 1.0),
            "*.*.input.idempotencyKey": _binding("idempotency-keys", 0.5),
        },
    }


def _binding(dictionary: str, probability: float) -> dict[str, Any]:
    return {"dictionary": dictionary, "probability": probability}
