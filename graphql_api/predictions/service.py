"""Sentiment workflows: score a member's message and store the prediction; record a human's
verdict on a prediction."""

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.audit import service as audit_service
from graphql_api.auth.policy import Action, require, row_filter
from graphql_api.kit.command_fields import FeedbackComment, IdempotencyKey, MemberNumber, RowId
from graphql_api.kit.commands import CommandInput, RequestMeta
from graphql_api.kit.errors import ErrorCode, refuse
from graphql_api.members.service import require_member
from graphql_api.models import Feedback, Prediction
from graphql_api.predictions.sentiment import (
    SentimentModel,
    SentimentResult,
    predict_async,
    validate_text,
)

PREDICT_OPERATION = "predictSentiment"
FEEDBACK_OPERATION = "submitFeedback"

# The model's own rule (1..5000 characters, no NUL) is the input rule: one source of truth.
# InvalidTextError is a ValueError, so pydantic reports it as an INVALID_INPUT on "text".
SentimentText = Annotated[str, AfterValidator(validate_text)]


class PredictSentimentCommand(CommandInput):
    member_number: MemberNumber
    text: SentimentText
    idempotency_key: IdempotencyKey | None = None


class SubmitFeedbackCommand(CommandInput):
    prediction_id: RowId
    is_correct: bool
    comment: FeedbackComment | None = None
    idempotency_key: IdempotencyKey | None = None


@dataclass(frozen=True, slots=True)
class Scored:
    """A model's verdict on a command's text, reached before any transaction opens."""

    model_version: str
    result: SentimentResult


async def score(model: SentimentModel, command: PredictSentimentCommand) -> Scored:
    """Run the model in a worker thread. Callers do this before `create_prediction`'s
    transaction, so no connection or lock is held while a (possibly slow) model works."""
    return Scored(model.version, await predict_async(model, command.text))


async def create_prediction(
    session: AsyncSession, command: PredictSentimentCommand, meta: RequestMeta, scored: Scored
) -> int:
    """Store the scored prediction for the member and audit it as prediction.created."""
    require(meta.viewer, Action.PREDICT_SENTIMENT)
    member = await require_member(session, command.member_number)
    prediction = Prediction(
        member_id=member.id,
        text=command.text,
        sentiment=scored.result.sentiment,
        confidence=scored.result.confidence,
        model_version=scored.model_version,
    )
    session.add(prediction)
    await session.flush()
    await audit_service.record(
        session,
        meta,
        action="prediction.created",
        entity=prediction,
        member_id=member.id,
        # Not the text: the audit trail records what happened, not members' messages.
        payload={
            "sentiment": scored.result.sentiment.value,
            "confidence": str(scored.result.confidence),
            "modelVersion": scored.model_version,
        },
    )
    return prediction.id


async def submit_feedback(
    session: AsyncSession, command: SubmitFeedbackCommand, meta: RequestMeta
) -> int:
    """Record whether a prediction was right; audited as feedback.submitted for its member.
    A prediction the viewer may not read (another member's, for a MEMBER key) is NOT_FOUND."""
    require(meta.viewer, Action.SUBMIT_FEEDBACK)
    member_id = await session.scalar(
        select(Prediction.member_id).where(
            Prediction.id == command.prediction_id, row_filter(meta.viewer, Prediction)
        )
    )
    if member_id is None:
        raise refuse(ErrorCode.NOT_FOUND, "No prediction with this id.", "prediction_id")
    feedback = Feedback(
        prediction_id=command.prediction_id,
        is_correct=command.is_correct,
        comment=command.comment,
    )
    session.add(feedback)
    await session.flush()
    await audit_service.record(
        session,
        meta,
        action="feedback.submitted",
        entity=feedback,
        member_id=member_id,
        payload={
            "predictionId": command.prediction_id,
            "isCorrect": command.is_correct,
            "hasComment": bool(command.comment),
        },
    )
    return feedback.id
