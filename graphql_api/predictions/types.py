"""GraphQL types of the sentiment domain: predictions and the feedback they receive."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from graphql_api import models, relation_specs
from graphql_api.graph.connection import CountedConnection
from graphql_api.graph.declare import attribute, capped_list, column, to_one
from graphql_api.graph.enums import Sentiment
from graphql_api.graph.nodes import NodeRow

if TYPE_CHECKING:
    from graphql_api.members.types import Member

MemberRef = Annotated["Member", strawberry.lazy("graphql_api.members.types")]
MAX_FEEDBACK = 100


@strawberry.type(description="A human's verdict on a prediction.")
class Feedback(NodeRow):
    __model__ = models.Feedback
    __by_id__ = relation_specs.FEEDBACK_BY_ID

    id: relay.NodeID[int]
    prediction_id: strawberry.Private[int]
    is_correct: bool = column("Whether the predicted sentiment was right.")
    comment: str | None = column("Optional free-text comment.")
    created_at: datetime = column("When the feedback was submitted.")
    prediction: "Prediction" = to_one(
        relation_specs.FEEDBACK_PREDICTION, "The prediction this feedback judges."
    )


@strawberry.type(description="A sentiment prediction over one of a member's messages.")
class Prediction(NodeRow):
    __model__ = models.Prediction
    __by_id__ = relation_specs.PREDICTION_BY_ID

    id: relay.NodeID[int]
    member_id: strawberry.Private[int]
    text: str = column("The message that was scored.")
    sentiment: Sentiment = column("The predicted sentiment.")
    confidence: Decimal = column("Model confidence, 0 to 1.")
    model_version: str = column("Model and version, e.g. vader-3.3.2.")
    created_at: datetime = column("When the prediction was made.")
    feedback: list[Feedback] = capped_list(
        relation_specs.PREDICTION_FEEDBACK,
        f"Feedback on this prediction, oldest first (at most {MAX_FEEDBACK}).",
        cap=MAX_FEEDBACK,
    )
    member: MemberRef = to_one(
        relation_specs.PREDICTION_MEMBER, "The member whose message was scored."
    )


@strawberry.type(name="PredictionConnection", description="A page of predictions.")
class PredictionConnection(CountedConnection[Prediction]):
    pass


@strawberry.type(description="How one sentiment model version has performed, judged by feedback.")
class ModelPerformance:
    model_version: str = attribute("Model and version, e.g. vader-3.3.2.")
    predictions: int = attribute("Predictions this version has made.")
    feedback_count: int = attribute(
        "Feedback received on those predictions (a prediction may get several)."
    )
    correct_count: int = attribute("Feedback that said the model was right.")
    accuracy: Decimal | None = attribute(
        "Share of feedback saying the model was right: correctCount / feedbackCount to 4"
        " decimal places (half up); null before any feedback."
    )
