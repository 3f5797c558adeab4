"""Tool arguments the JSON Schema must refuse exactly as GraphQL would, naming the argument.

Regressions: the schema's Decimal pattern was looser than the scalar's ("+5", "5.", ".5",
"007", 7 decimal places, 21 integer digits passed it) and Int had no 32-bit bounds, so such
values reached GraphQL's variable coercion and came back with `field: null`; coded GraphQL
errors carried the response path (["members"]) instead of the argument (["first"]).
"""

import re
from typing import Any

import pytest

from graphql_api.graph.scalars import parse_decimal
from graphql_api.mcp_server.input_schema import DECIMAL_PATTERN
from graphql_api.models import Role
from tests.db_counts import row_counts
from tests.mcp_client import call_http, error_codes, loan_arguments

pytestmark = pytest.mark.integration

LOOSE_DECIMALS = ["+5", "5.", ".5", "007", "1.1234567", "1" * 21, "1e3", "NaN", " 5", "-0.5.1"]
PLAIN_DECIMALS = ["0", "5", "-5", "12500.00", "0.123456", "9" * 20]


def _decimal_accepted_by_the_scalar(text: str) -> bool:
    try:
        parse_decimal(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("text", LOOSE_DECIMALS + PLAIN_DECIMALS)
def test_decimal_pattern_is_the_scalars_rule(text: str) -> None:
    assert (re.search(DECIMAL_PATTERN, text) is not None) == _decimal_accepted_by_the_scalar(text)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        *[(loan_arguments(amount=text), "amount") for text in LOOSE_DECIMALS],
        (loan_arguments(employmentYears=2**31), "employmentYears"),
        (loan_arguments(employmentYears=-(2**31) - 1), "employmentYears"),
    ],
)
def test_out_of_grammar_values_are_refused_by_argument_and_write_nothing(
    api_url: str,
    api_keys: dict[Role, str],
    demo_loaded: str,
    arguments: dict[str, Any],
    field: str,
) -> None:
    before = row_counts(demo_loaded)
    result = call_http(api_url, api_keys[Role.AGENT], "apply_for_loan", arguments)
    assert error_codes(result) == ["INVALID_INPUT"]
    assert result.structured_content is not None
    assert result.structured_content["errors"][0]["field"] == [field]
    assert row_counts(demo_loaded) == before


@pytest.mark.parametrize(
    ("arguments", "field", "graphql_code"),
    [
        ({"first": 0}, "first", "INVALID_PAGE_REQUEST"),
        ({"first": 1000}, "first", "INVALID_PAGE_REQUEST"),
        ({"after": "not-a-cursor"}, "after", "INVALID_CURSOR"),
    ],
)
def test_coded_graphql_errors_name_the_tool_argument(
    api_url: str,
    api_keys: dict[Role, str],
    arguments: dict[str, Any],
    field: str,
    graphql_code: str,
) -> None:
    result = call_http(api_url, api_keys[Role.AGENT], "search_members", arguments)
    assert error_codes(result) == ["INVALID_INPUT"]
    assert result.structured_content is not None
    error = result.structured_content["errors"][0]
    assert error["field"] == [field]
    assert error["graphqlCode"] == graphql_code


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("apply_for_loan", loan_arguments(note="please"), ["note"]),
        (
            "record_recommendation",
            {
                "portfolioId": "UG9ydGZvbGlvOjE=",
                "modelName": "m",
                "allocation": [{"assetClass": "EQUITY", "weight": "1", "colour": "red"}],
            },
            ["allocation", "0", "colour"],
        ),
    ],
)
def test_unknown_arguments_are_named(
    api_url: str, api_keys: dict[Role, str], tool: str, arguments: dict[str, Any], field: list[str]
) -> None:
    """Regression: an unexpected argument came back with `field: null`."""
    result = call_http(api_url, api_keys[Role.AGENT], tool, arguments)
    assert error_codes(result) == ["INVALID_INPUT"]
    assert result.structured_content is not None
    assert result.structured_content["errors"][0]["field"] == field
