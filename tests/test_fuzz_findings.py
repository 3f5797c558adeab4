"""Regression tests for what the GraphQL fuzz suite (tests/test_fuzz_graphql.py) found: the
minimal request that showed each bug, against the session's real API server.
"""

from tests.conftest import MEMBER_KEY_OWNER
from tests.graphql_client import GraphQLClient

# A refused mutation (blank text), so nothing is written; selecting `field` of `userErrors`
# (a list of strings) is all it takes.
USER_ERROR_FIELD = """
mutation ($n: String!) {
  predictSentiment(input: {memberNumber: $n, text: ""}) { userErrors { code field } }
}
"""


def test_selecting_the_field_path_of_user_errors_is_served(gql: GraphQLClient) -> None:
    """Found at 4653aed, fixed by be44979: the query cost estimator asked for the cap of every
    list field, lists of scalars included, so `userErrors { field }` ([String!]) refused the
    whole operation with an untyped, unmasked `'UserError.field is a list without a cap'`."""
    body = gql.post(USER_ERROR_FIELD, {"n": MEMBER_KEY_OWNER})
    assert body.get("errors") is None, body
    (error,) = body["data"]["predictSentiment"]["userErrors"]
    assert error["code"] == "INVALID_INPUT"
    assert error["field"] == ["input", "text"]
