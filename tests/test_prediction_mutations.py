"""predictSentiment, submitFeedback and modelPerformance over HTTP against PostgreSQL.

Refusals must write nothing (row counts before and after); successes write exactly their
rows and one audit entry under the request's id. The read API tests compare the richest demo
member and the demo's NEGATIVE predictions with the demo file, so these tests never write for
that member and only score texts that are not negative.
"""

import asyncio
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from graphql_api.predictions.repository import ModelPerformanceRow
from graphql_api.predictions.sentiment import VaderSentimentModel
from tests.db_counts import fetch, row_counts
from tests.demo_file import demo_members, richest_member
from tests.gql_helpers import global_id, mutate, row_id_of
from tests.graphql_client import GraphQLClient

PRAISE = "I love how quick and helpful the service was!"  # POSITIVE for VADER

PREDICT = """
mutation ($input: PredictSentimentInput!) {
  predictSentiment(input: $input) {
    prediction {
      id text sentiment confidence modelVersion member { memberNumber } feedback { id }
    }
    userErrors { code message field }
  }
}
"""

FEEDBACK = """
mutation ($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) {
    feedback {
      id isCorrect comment
      prediction { id member { memberNumber } feedback { id isCorrect comment } }
    }
    userErrors { code message field }
  }
}
"""

PERFORMANCE = """
{ modelPerformance { modelVersion predictions feedbackCount correctCount accuracy } }
"""

AUDIT = """
query ($r: String!) {
  auditLogs(first: 100, filter: {requestId: $r}) {
    totalCount
    edges { node { requestId action entityType entityId payload member { memberNumber } } }
  }
}
"""


# --- helpers -------------------------------------------------------------------------------


def _audit(gql: GraphQLClient, request_id: str) -> list[dict[str, Any]]:
    found = gql.ok(AUDIT, {"r": request_id})["auditLogs"]
    nodes = [edge["node"] for edge in found["edges"]]
    assert found["totalCount"] == len(nodes)
    assert all(node["requestId"] == request_id for node in nodes)
    return nodes


def _member_number() -> str:
    """A demo member other than the richest (whose rows the read tests compare exactly)."""
    richest = richest_member()["member_number"]
    others = [m["member_number"] for m in demo_members() if m["member_number"] != richest]
    return str(others[1])


def _predict(gql: GraphQLClient, text: str = PRAISE, **extra: Any) -> tuple[Any, str]:
    return mutate(gql, PREDICT, {"memberNumber": _member_number(), "text": text, **extra})


def _performance(gql: GraphQLClient) -> dict[str, dict[str, Any]]:
    body = gql.post(PERFORMANCE)
    assert body.get("errors") is None, body["errors"]
    assert body["extensions"]["sqlStatements"] == 1
    rows = body["data"]["modelPerformance"]
    assert [row["modelVersion"] for row in rows] == sorted(row["modelVersion"] for row in rows)
    return {row["modelVersion"]: row for row in rows}


@pytest.fixture(scope="module")
def prediction_id(gql: GraphQLClient) -> str:
    payload, _ = _predict(gql, "The statement arrived on time, thanks.")
    assert payload["userErrors"] == []
    global_id: str = payload["prediction"]["id"]
    return global_id


# --- predictSentiment ------------------------------------------------------------------------


def test_predict_sentiment_stores_the_models_verdict_and_audits_it(
    gql: GraphQLClient, database_url: str
) -> None:
    model = VaderSentimentModel()
    expected = model.predict(PRAISE)
    before = row_counts(database_url)
    payload, request_id = _predict(gql)
    after = row_counts(database_url)

    assert payload["userErrors"] == []
    prediction = payload["prediction"]
    assert prediction["text"] == PRAISE
    assert prediction["sentiment"] == expected.sentiment.value == "POSITIVE"
    assert prediction["confidence"] == str(expected.confidence)
    assert prediction["modelVersion"] == model.version
    assert prediction["member"] == {"memberNumber": _member_number()}
    assert prediction["feedback"] == []
    assert after == {
        **before,
        "predictions": before["predictions"] + 1,
        "audit_logs": before["audit_logs"] + 1,
    }
    [entry] = _audit(gql, request_id)
    assert (entry["action"], entry["entityType"]) == ("prediction.created", "Prediction")
    assert int(entry["entityId"]) == row_id_of(prediction["id"], "Prediction")
    assert entry["member"] == {"memberNumber": _member_number()}
    assert entry["payload"] == {
        "sentiment": "POSITIVE",
        "confidence": str(expected.confidence),
        "modelVersion": model.version,
    }


def test_text_of_5000_characters_is_accepted(gql: GraphQLClient) -> None:
    payload, _ = _predict(gql, "a" * 5000)
    assert payload["userErrors"] == []
    assert len(payload["prediction"]["text"]) == 5000


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"text": ""}, "INVALID_INPUT", ["input", "text"]),
        ({"text": "x" * 5001}, "INVALID_INPUT", ["input", "text"]),
        ({"text": "good\u0000news"}, "INVALID_INPUT", ["input", "text"]),
        ({"memberNumber": "M-999999"}, "NOT_FOUND", ["input", "memberNumber"]),
        ({"memberNumber": ""}, "INVALID_INPUT", ["input", "memberNumber"]),
        ({"idempotencyKey": "k" * 201}, "INVALID_INPUT", ["input", "idempotencyKey"]),
    ],
)
def test_predict_refusals_write_nothing(
    gql: GraphQLClient,
    database_url: str,
    overrides: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    before = row_counts(database_url)
    payload, request_id = mutate(
        gql, PREDICT, {"memberNumber": _member_number(), "text": PRAISE, **overrides}
    )
    assert payload["prediction"] is None
    [error] = payload["userErrors"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    assert row_counts(database_url) == before
    assert _audit(gql, request_id) == []


def test_predict_replay_returns_the_first_prediction(gql: GraphQLClient, database_url: str) -> None:
    first, _ = _predict(gql, idempotencyKey="predict-replay-1")
    assert first["userErrors"] == []
    before = row_counts(database_url)

    replay, replay_request = _predict(gql, idempotencyKey="predict-replay-1")
    assert replay == first
    assert row_counts(database_url) == before
    assert _audit(gql, replay_request) == []

    other, _ = _predict(gql, "Great, thank you!", idempotencyKey="predict-replay-1")
    assert other["prediction"] is None
    assert [(e["code"], e["field"]) for e in other["userErrors"]] == [
        ("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])
    ]
    assert row_counts(database_url) == before


# --- submitFeedback --------------------------------------------------------------------------


def test_submit_feedback_is_listed_on_the_prediction_and_audited(
    gql: GraphQLClient, database_url: str, prediction_id: str
) -> None:
    before = row_counts(database_url)
    payload, request_id = mutate(
        gql, FEEDBACK, {"predictionId": prediction_id, "isCorrect": True, "comment": "Spot on."}
    )
    after = row_counts(database_url)

    assert payload["userErrors"] == []
    feedback = payload["feedback"]
    assert (feedback["isCorrect"], feedback["comment"]) == (True, "Spot on.")
    prediction = feedback["prediction"]
    assert prediction["id"] == prediction_id
    # Oldest first, so the new verdict is last.
    assert prediction["feedback"][-1] == {
        "id": feedback["id"],
        "isCorrect": True,
        "comment": "Spot on.",
    }
    assert after == {
        **before,
        "feedback": before["feedback"] + 1,
        "audit_logs": before["audit_logs"] + 1,
    }
    [entry] = _audit(gql, request_id)
    assert (entry["action"], entry["entityType"]) == ("feedback.submitted", "Feedback")
    assert int(entry["entityId"]) == row_id_of(feedback["id"], "Feedback")
    assert entry["member"] == prediction["member"] == {"memberNumber": _member_number()}
    assert entry["payload"] == {
        "predictionId": row_id_of(prediction_id, "Prediction"),
        "isCorrect": True,
        "hasComment": True,
    }


def test_feedback_without_comment(gql: GraphQLClient, prediction_id: str) -> None:
    payload, _ = mutate(gql, FEEDBACK, {"predictionId": prediction_id, "isCorrect": False})
    assert payload["userErrors"] == []
    assert (payload["feedback"]["isCorrect"], payload["feedback"]["comment"]) == (False, None)


def _id_of_another_table_only(database_url: str) -> int:
    """A row id that exists in portfolios but not in predictions: an existence check on the
    wrong table would accept it."""
    [row] = asyncio.run(
        fetch(
            database_url,
            """SELECT min(id) AS id FROM portfolios
               WHERE NOT EXISTS (SELECT 1 FROM predictions WHERE predictions.id = portfolios.id)""",
        )
    )
    assert row["id"] is not None
    return int(row["id"])


def test_feedback_needs_an_existing_prediction(gql: GraphQLClient, database_url: str) -> None:
    portfolio_row = _id_of_another_table_only(database_url)
    existing_feedback = gql.ok(
        "{ predictions(first: 100) { edges { node { feedback { id } } } } }"
    )["predictions"]["edges"]
    feedback_id = next(
        e["node"]["feedback"][0]["id"] for e in existing_feedback if e["node"]["feedback"]
    )
    for bad_id in [
        global_id("Prediction", portfolio_row),
        global_id("Prediction", 10**12),
        global_id("Prediction", 10**30),
        global_id("Prediction", "x1"),
        global_id("Portfolio", portfolio_row),
        feedback_id,
        "garbage",
    ]:
        before = row_counts(database_url)
        payload, request_id = mutate(gql, FEEDBACK, {"predictionId": bad_id, "isCorrect": True})
        assert payload["feedback"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["input", "predictionId"])
        ], bad_id
        assert row_counts(database_url) == before
        assert _audit(gql, request_id) == []


@pytest.mark.parametrize("comment", ["c" * 2001, "nul\u0000here"])
def test_bad_comments_write_nothing(
    gql: GraphQLClient, database_url: str, prediction_id: str, comment: str
) -> None:
    before = row_counts(database_url)
    payload, _ = mutate(
        gql, FEEDBACK, {"predictionId": prediction_id, "isCorrect": True, "comment": comment}
    )
    assert payload["feedback"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INPUT", ["input", "comment"])
    ]
    assert row_counts(database_url) == before


def test_comment_of_2000_characters_is_accepted(gql: GraphQLClient, prediction_id: str) -> None:
    payload, _ = mutate(
        gql, FEEDBACK, {"predictionId": prediction_id, "isCorrect": True, "comment": "c" * 2000}
    )
    assert payload["userErrors"] == []


def test_feedback_replay_returns_the_first_feedback(
    gql: GraphQLClient, database_url: str, prediction_id: str
) -> None:
    variables = {"predictionId": prediction_id, "isCorrect": True, "idempotencyKey": "fb-1"}
    first, _ = mutate(gql, FEEDBACK, variables)
    assert first["userErrors"] == []
    before = row_counts(database_url)

    replay, _ = mutate(gql, FEEDBACK, variables)
    assert replay["feedback"]["id"] == first["feedback"]["id"]
    assert row_counts(database_url) == before

    other, _ = mutate(gql, FEEDBACK, {**variables, "isCorrect": False})
    assert [(e["code"], e["field"]) for e in other["userErrors"]] == [
        ("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])
    ]
    assert row_counts(database_url) == before


# --- modelPerformance ------------------------------------------------------------------------


def test_model_performance_counts_match_the_predictions_listing(gql: GraphQLClient) -> None:
    rows = _performance(gql)
    assert rows
    for version, row in rows.items():
        listed = gql.ok(
            "query ($v: String) { predictions(filter: {modelVersion: $v}) { totalCount } }",
            {"v": version},
        )["predictions"]["totalCount"]
        assert row["predictions"] == listed
        assert 0 <= row["correctCount"] <= row["feedbackCount"]
    total = gql.ok("{ predictions { totalCount } }")["predictions"]["totalCount"]
    assert sum(row["predictions"] for row in rows.values()) == total


def _accuracy(correct: int, given: int) -> str | None:
    if given == 0:
        return None
    return str((Decimal(correct) / given).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def test_model_performance_follows_new_predictions_and_feedback(gql: GraphQLClient) -> None:
    version = VaderSentimentModel().version
    before = _performance(gql)

    predicted, _ = _predict(gql, "Thanks, that was really helpful.")
    new_id = predicted["prediction"]["id"]
    for verdict in (True, True, False):
        payload, _ = mutate(gql, FEEDBACK, {"predictionId": new_id, "isCorrect": verdict})
        assert payload["userErrors"] == []
    after = _performance(gql)

    old = before.get(version, {"predictions": 0, "feedbackCount": 0, "correctCount": 0})
    row = after[version]
    assert row["predictions"] == old["predictions"] + 1
    assert row["feedbackCount"] == old["feedbackCount"] + 3
    assert row["correctCount"] == old["correctCount"] + 2
    assert row["accuracy"] == _accuracy(row["correctCount"], row["feedbackCount"])
    assert {v: r for v, r in after.items() if v != version} == {
        v: r for v, r in before.items() if v != version
    }


@pytest.mark.parametrize(
    ("correct", "given", "accuracy"),
    [(0, 0, None), (0, 3, "0.0000"), (2, 3, "0.6667"), (1, 8, "0.1250"), (1, 20000, "0.0001"),
     (5, 5, "1.0000")],
)  # fmt: skip
def test_accuracy_is_four_places_half_up_and_null_without_feedback(
    correct: int, given: int, accuracy: str | None
) -> None:
    row = ModelPerformanceRow("m", predictions=9, feedback_count=given, correct_count=correct)
    assert (None if row.accuracy is None else str(row.accuracy)) == accuracy
