"""The query cost limit: worst-case rows estimated before any SQL, over-budget operations
refused with QUERY_TOO_COMPLEX, every list field capped."""

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    parse,
)

from graphql_api.bench.queries import AGENT_CONTEXT_QUERY, MEMBERS_QUERY
from graphql_api.config import Settings
from graphql_api.schema import schema
from graphql_api.security import cost
from graphql_api.security.cost import (
    QUERY_TOO_COMPLEX,
    declared_kind,
    estimate_nodes,
    list_cap,
)
from tests.feedback_rows import add_feedback
from tests.gql_helpers import global_id
from tests.test_limits import Server, serve

DEFAULT_LIMIT = Settings().max_query_nodes


def estimate(query: str, variables: dict[str, Any] | None = None) -> int:
    nodes = estimate_nodes(schema._schema, parse(query), None, variables)
    assert nodes is not None
    return nodes


def feedback_loop(nesting: int, first: int | None = None) -> str:
    """`predictions { feedback { prediction { feedback ... } } }`, the amplification shape."""
    inner = "id"
    for _ in range(nesting):
        inner = f"feedback {{ id prediction {{ {inner} }} }}"
    page = "" if first is None else f"(first: {first})"
    return f"{{ predictions{page} {{ edges {{ node {{ {inner} }} }} }} }}"


# --- the estimate ------------------------------------------------------------------------------


def test_every_list_of_objects_has_a_cap() -> None:
    """Lists of scalars (a user error's input path) cost nothing and are bounded by the
    input's own shape; every list of objects must have a cap."""
    uncapped: list[str] = []
    caps: list[int] = []
    for type_ in schema._schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            output = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            is_edges = type_.name.endswith("Connection") and name == "edges"
            is_object_list = isinstance(output, GraphQLList) and not isinstance(
                get_named_type(output), GraphQLScalarType
            )
            if is_object_list and not is_edges:
                try:
                    caps.append(list_cap(type_.name, name, field))
                except KeyError:
                    uncapped.append(f"{type_.name}.{name}")
    assert uncapped == []
    assert caps
    assert all(cap > 0 for cap in caps)


def test_caps_come_from_the_field_declarations() -> None:
    """Declared caps are the ones the resolvers and the compiler apply."""
    prediction = schema._schema.type_map["Prediction"]
    assert isinstance(prediction, GraphQLObjectType)
    feedback = prediction.fields["feedback"]
    kind = declared_kind(feedback)
    assert kind is not None
    assert list_cap("Prediction", "feedback", feedback) == kind.cap  # type: ignore[attr-defined]


def test_rows_are_counted_through_connections_and_lists() -> None:
    # 3 members, each: 1 pension account + 2 loans + 2 portfolios x 50 recommendations.
    query = """{ members(first: 3) { totalCount pageInfo { hasNextPage } edges { cursor node {
        id pensionAccount { id } lendingAssessment { action }
        loanApplications(first: 2) { edges { node { id } } }
        portfolios(first: 2) { edges { node { recommendations { id lines { weight } } } } }
    } } } }"""
    assert estimate(query) == 3 * (1 + 1 + 2 + 2 * (1 + 50))


def test_lists_of_scalars_cost_nothing() -> None:
    mutation = """mutation { createMember(input: {memberNumber: "M-1", fullName: "A",
        email: "a@example.org", status: ACTIVE}) { member { id } userErrors { code field } } }"""
    assert estimate(mutation) == 1


def test_connections_without_first_count_the_default_page() -> None:
    assert estimate("{ members { edges { node { id } } } }") == 20


def test_variables_and_their_defaults_set_the_page_size() -> None:
    query = "query($n: Int = 7) { members(first: $n) { edges { node { id } } } }"
    assert estimate(query) == 7
    assert estimate(query, {"n": 40}) == 40


def test_out_of_range_pages_count_at_most_the_maximum_page() -> None:
    assert estimate("{ members(first: 100000) { edges { node { id } } } }") == 100


def test_skipped_selections_cost_nothing() -> None:
    query = """query($full: Boolean!) { members(first: 10) { edges { node {
        id predictions(first: 10) @include(if: $full) { edges { node { feedback { id } } } }
    } } } }"""
    assert estimate(query, {"full": False}) == 10
    assert estimate(query, {"full": True}) == 10 + 10 * 10 * (1 + 100)


def test_fragments_count_once_per_object_as_execution_merges_them() -> None:
    twice = """query { member(memberNumber: "M-1") { ...Loans ...Loans
        loanApplications(first: 5) { edges { node { id } } } } }
    fragment Loans on Member { loanApplications(first: 5) { edges { node { id } } } }"""
    assert estimate(twice) == 1 + 5
    assert estimate(fragment_bomb(40)) == estimate(fragment_bomb(0))
    assert estimate(fragment_bomb(0)) == 1 + 1  # one member, one loan


def test_page_sizes_reach_edges_inside_fragments() -> None:
    query = """{ members(first: 7) { ... on MemberConnection { edges { node { id } } } } }"""
    assert estimate(query) == 7


def fragment_bomb(levels: int) -> str:
    """Each fragment spreads the previous one twice: 2^levels copies of one member field."""
    fragments = [
        "fragment F0 on Query { members(first: 1) { edges { node {"
        " loanApplications(first: 1) { edges { node { id } } } } } } }"
    ]
    fragments += [
        f"fragment F{k} on Query {{ ...F{k - 1} ...F{k - 1} }}" for k in range(1, levels + 1)
    ]
    return f"query {{ ...F{levels} }}\n" + "\n".join(fragments)


def test_fragments_count_at_every_place_they_are_spread() -> None:
    query = """
    query {
        a: member(memberNumber: "M-1") { ...Loans }
        b: member(memberNumber: "M-2") { ...Loans }
    }
    fragment Loans on Member { loanApplications(first: 5) { edges { node { id } } } }"""
    assert estimate(query) == 2 * (1 + 5)


def test_the_benchmark_and_agent_queries_fit_the_default_limit() -> None:
    assert estimate(AGENT_CONTEXT_QUERY, {"memberNumber": "M-100001"}) < 1_000
    assert estimate(MEMBERS_QUERY) == 77_100
    assert estimate(MEMBERS_QUERY) < DEFAULT_LIMIT


@pytest.mark.parametrize("nesting", [2, 3, 4, 5, 6])
def test_the_amplification_loop_is_over_the_default_limit(nesting: int) -> None:
    assert estimate(feedback_loop(nesting)) > DEFAULT_LIMIT


def test_one_level_of_the_loop_fits() -> None:
    assert estimate(feedback_loop(1)) == 20 + 20 * 100 * 2


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(demo_loaded: str) -> Iterator[Server]:
    # Depth 20: the loop nested 4 to 6 times is deeper than the default depth limit of 10; the
    # cost limit must refuse it on its own.
    settings = Settings(
        database_url=demo_loaded, expose_query_stats=True, rate_limit_enabled=False,
        max_query_depth=20,
    )  # fmt: skip
    with serve(settings) as served:
        yield served


@pytest.fixture(scope="module")
def busy_prediction(demo_loaded: str) -> int:
    """A prediction with 158 feedback rows (more than the list's cap of 100)."""
    return add_feedback(demo_loaded, 158)


@pytest.mark.parametrize("nesting", [2, 3, 4, 5, 6])
def test_the_loop_is_refused_before_any_sql(
    server: Server, busy_prediction: int, nesting: int
) -> None:
    with server.no_sql():
        response = server.response(feedback_loop(nesting))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    extensions = error["extensions"]
    assert extensions["code"] == QUERY_TOO_COMPLEX
    assert extensions["estimatedNodes"] == estimate(feedback_loop(nesting))
    assert extensions["maxNodes"] == DEFAULT_LIMIT
    assert "at most" in error["message"]


def test_one_level_of_the_loop_is_served_with_capped_lists(
    server: Server, busy_prediction: int
) -> None:
    prediction_id = global_id("Prediction", busy_prediction)
    data = server.ok(
        f"""{{ node(id: "{prediction_id}") {{ ... on Prediction {{
            feedback {{ id prediction {{ id feedback {{ id }} }} }} }} }} }}"""
    )
    feedback = data["node"]["feedback"]
    assert len(feedback) == 100  # 158 rows, capped
    assert {item["prediction"]["id"] for item in feedback} == {prediction_id}
    assert all(len(item["prediction"]["feedback"]) == 100 for item in feedback)


def test_the_limit_is_configurable(demo_loaded: str) -> None:
    settings = Settings(
        database_url=demo_loaded, max_query_nodes=50, expose_query_stats=True,
        rate_limit_enabled=False,
    )  # fmt: skip
    with serve(settings) as small:
        assert len(small.ok("{ members(first: 50) { edges { node { id } } } }")["members"]["edges"])
        with small.no_sql():
            errors = small.errors("{ members(first: 51) { edges { node { id } } } }")
        assert [e["extensions"]["code"] for e in errors] == [QUERY_TOO_COMPLEX]
        assert errors[0]["extensions"]["estimatedNodes"] == 51
        # Variables are part of the estimate: the same document, a smaller page.
        query = "query($n: Int) { members(first: $n) { edges { node { id } } } }"
        assert small.response(query, {"n": 10}).json().get("errors") is None
        refused = small.response(query, {"n": 60}).json()["errors"]
        assert refused[0]["extensions"]["code"] == QUERY_TOO_COMPLEX


def test_an_exception_inside_the_check_is_masked(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """strawberry skips MaskErrors for exceptions raised in an extension's hook; the schema
    masks whatever got past, so the client never sees internal text."""

    def broken(*_: object) -> int:
        raise KeyError("internal detail")

    monkeypatch.setattr(cost, "estimate_nodes", broken)
    # modelPerformance always runs on the resolver path, where the extension does.
    response = server.response("{ modelPerformance { modelVersion } }")
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert "internal detail" not in response.text
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["message"] == f"Unexpected error (request id {error['extensions']['requestId']})."
