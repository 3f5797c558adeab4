"""Prediction mutations: score a member's message, judge a prediction."""

from typing import Annotated

import strawberry

from graphql_api import relation_specs
from graphql_api.context import Info
from graphql_api.graph.mutations import (
    UserError,
    idempotency_key_field,
    input_data,
    row_id,
    run_mutation,
    user_errors_field,
)
from graphql_api.kit.errors import CommandRefusedError
from graphql_api.predictions import service
from graphql_api.predictions.types import Feedback, Prediction


@strawberry.input(description="A member's message to score for sentiment.")
class PredictSentimentInput:
    member_number: str = strawberry.field(description="The member who wrote the message.")
    text: str = strawberry.field(description="The message: 1 to 5000 characters, no NUL.")
    idempotency_key: str | None = idempotency_key_field()


@strawberry.type(description="Result of predictSentiment.")
class PredictSentimentPayload:
    prediction: Prediction | None = strawberry.field(
        description="The stored prediction; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="A verdict on a prediction.")
class SubmitFeedbackInput:
    prediction_id: strawberry.ID = strawberry.field(
        description="Global id (Prediction.id) of the prediction being judged."
    )
    is_correct: bool = strawberry.field(description="Whether the predicted sentiment was right.")
    comment: str | None = strawberry.field(
        default=None, description="Optional comment, at most 2000 characters, no NUL."
    )
    idempotency_key: str | None = idempotency_key_field()


@strawberry.type(description="Result of submitFeedback.")
class SubmitFeedbackPayload:
    feedback: Feedback | None = strawberry.field(
        description="The stored feedback (its `prediction` lists it); null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


def _refused(error: CommandRefusedError) -> list[UserError]:
    return [UserError.from_problem(problem) for problem in error.problems]


@strawberry.type
class PredictionMutation:
    @strawberry.mutation(
        description="Score a member's message with the configured sentiment model and store"
        " the prediction with the model version; audited as prediction.created."
    )
    async def predict_sentiment(
        self,
        info: Info,
        input: Annotated[
            PredictSentimentInput, strawberry.argument(description="The message to score.")
        ],
    ) -> PredictSentimentPayload:
        try:
            command = service.PredictSentimentCommand.parse(input_data(input))
        except CommandRefusedError as refused:
            return PredictSentimentPayload(prediction=None, user_errors=_refused(refused))
        # The model runs here, before the transaction: no connection or idempotency-key lock
        # is held while it works. A replayed key re-scores (cheap) and then returns the first
        # prediction; the fingerprint covers the input only, never the model's output.
        scored = await service.score(info.context.sentiment_model, command)
        outcome = await run_mutation(
            info,
            operation=service.PREDICT_OPERATION,
            command=lambda: command,
            work=lambda session, parsed, meta: service.create_prediction(
                session, parsed, meta, scored
            ),
        )
        return PredictSentimentPayload(
            prediction=await outcome.load(info, relation_specs.PREDICTION_BY_ID, Prediction),
            user_errors=outcome.user_errors,
        )

    @strawberry.mutation(
        description="Record whether a prediction was right; audited as feedback.submitted."
        " Feeds modelPerformance."
    )
    async def submit_feedback(
        self,
        info: Info,
        input: Annotated[SubmitFeedbackInput, strawberry.argument(description="The verdict.")],
    ) -> SubmitFeedbackPayload:
        def command() -> service.SubmitFeedbackCommand:
            return service.SubmitFeedbackCommand.parse(
                {
                    **input_data(input),
                    "prediction_id": row_id(input.prediction_id, Prediction, "prediction_id"),
                }
            )

        outcome = await run_mutation(
            info,
            operation=service.FEEDBACK_OPERATION,
            command=command,
            work=service.submit_feedback,
        )
        return SubmitFeedbackPayload(
            feedback=await outcome.load(info, relation_specs.FEEDBACK_BY_ID, Feedback),
            user_errors=outcome.user_errors,
        )
