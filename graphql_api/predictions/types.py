"""GraphQL types of the sentiment domain: predictions and the feedback they receive."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from graphql_api import models, relations
from graphql_api.context import Info
from graphql_api.graph.connection import CountedConnection
from graphql_api.graph.enums import Sentiment
from graphql_api.graph.fields import load_list, load_one, required
from graphql_api.graph.mapping import relation_metadata
from graphql_api.graph.nodes import NodeRow

if TYPE_CHECKING:
    from graphql_api.members.types import Member

MemberRef = Annotated["Member", strawberry.lazy("graphql_api.members.types")]
MAX_FEEDBACK = 100


@strawberry.type(description="A human's verdict on a prediction.")
class Feedback(NodeRow):
    __model__ = models.Feedback
    __by_id__ = relations.FEEDBACK_BY_ID

    id: relay.NodeID[int]
    prediction_id: strawberry.Private[int]
    is_correct: bool = strawberry.field(description="Whether the predicted sentiment was right.")
    comment: str | None = strawberry.field(description="Optional free-text comment.")
    created_at: datetime = strawberry.field(description="When the feedback was submitted.")

    @strawberry.field(
        description="The prediction this feedback judges.",
        metadata=relation_metadata(relations.FEEDBACK_PREDICTION),
    )
    async def prediction(self, info: Info) -> "Prediction":
        return await required(load_one(info, relations.FEEDBACK_PREDICTION, self, Prediction))


@strawberry.type(description="A sentiment prediction over one of a member's messages.")
class Prediction(NodeRow):
    __model__ = models.Prediction
    __by_id__ = relations.PREDICTION_BY_ID

    id: relay.NodeID[int]
    member_id: strawberry.Private[int]
    text: str = strawberry.field(description="The message that was scored.")
    sentiment: Sentiment = strawberry.field(description="The predicted sentiment.")
    confidence: Decimal = strawberry.field(description="Model confidence, 0 to 1.")
    model_version: str = strawberry.field(description="Model and version, e.g. vader-3.3.2.")
    created_at: datetime = strawberry.field(description="When the prediction was made.")

    @strawberry.field(
        description=f"Feedback on this prediction, oldest first (at most {MAX_FEEDBACK}).",
        metadata=relation_metadata(relations.PREDICTION_FEEDBACK),
    )
    async def feedback(self, info: Info) -> list[Feedback]:
        return await load_list(info, relations.PREDICTION_FEEDBACK, self.id, Feedback, MAX_FEEDBACK)

    @strawberry.field(
        description="The member whose message was scored.",
        metadata=relation_metadata(relations.PREDICTION_MEMBER),
    )
    async def member(self, info: Info) -> MemberRef:
        from graphql_api.members.types import Member

        return await required(load_one(info, relations.PREDICTION_MEMBER, self, Member))


@strawberry.type(name="PredictionConnection", description="A page of predictions.")
class PredictionConnection(CountedConnection[Prediction]):
    pass


@strawberry.type(description="How one sentiment model version has performed, judged by feedback.")
class ModelPerformance:
    model_version: str = strawberry.field(description="Model and version, e.g. vader-3.3.2.")
    predictions: int = strawberry.field(description="Predictions this version has made.")
    feedback_count: int = strawberry.field(
        description="Feedback received on those predictions (a prediction may get several)."
    )
    correct_count: int = strawberry.field(description="Feedback that said the model was right.")
    accuracy: Decimal | None = strawberry.field(
        description="correctCount / feedbackCount to 4 decimal places (half up); null before"
        " any feedback."
    )
