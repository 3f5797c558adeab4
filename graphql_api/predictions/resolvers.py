"""Prediction queries."""

from typing import Annotated

import strawberry

from graphql_api.context import Info
from graphql_api.graph.connection import After, First
from graphql_api.graph.enums import Sentiment
from graphql_api.graph.resolve import list_connection
from graphql_api.kit.pagination import DEFAULT_PAGE_SIZE
from graphql_api.predictions import repository
from graphql_api.predictions.repository import PredictionCriteria, prediction_listing
from graphql_api.predictions.types import ModelPerformance, Prediction, PredictionConnection


@strawberry.input(description="Narrows a predictions query.")
class PredictionFilter:
    sentiment: Sentiment | None = strawberry.field(
        default=None, description="Only predictions with this sentiment."
    )
    model_version: str | None = strawberry.field(
        default=None, description="Only predictions made by this model version."
    )
    member_number: str | None = strawberry.field(
        default=None, description="Only this member's predictions."
    )


@strawberry.type
class PredictionQuery:
    @strawberry.field(description="Sentiment predictions across members, newest first.")
    async def predictions(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[
            PredictionFilter | None, strawberry.argument(description="Conditions to match.")
        ] = None,
    ) -> PredictionConnection:
        criteria = (
            PredictionCriteria(
                sentiment=filter.sentiment,
                model_version=filter.model_version,
                member_number=filter.member_number,
            )
            if filter
            else PredictionCriteria()
        )
        return await list_connection(
            info, prediction_listing(criteria), first=first, after=after,
            connection=PredictionConnection, node_type=Prediction,
        )  # fmt: skip

    @strawberry.field(
        description="Per sentiment model version: predictions made, feedback received and the"
        " share of feedback saying the model was right; ordered by model version, at most"
        f" {repository.MAX_MODEL_VERSIONS} versions."
    )
    async def model_performance(self, info: Info) -> list[ModelPerformance]:
        async with info.context.db.session() as session:
            rows = await repository.model_performance(session)
        return [
            ModelPerformance(
                model_version=row.model_version,
                predictions=row.predictions,
                feedback_count=row.feedback_count,
                correct_count=row.correct_count,
                accuracy=row.accuracy,
            )
            for row in rows
        ]
