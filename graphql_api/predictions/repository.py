"""Prediction queries."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.kit.listing import Listing, text_equals
from graphql_api.kit.pagination import newest_first
from graphql_api.members.repository import member_id_of
from graphql_api.models import Feedback, Prediction, Sentiment


@dataclass(frozen=True)
class PredictionCriteria:
    sentiment: Sentiment | None = None
    model_version: str | None = None
    member_number: str | None = None


def prediction_listing(criteria: PredictionCriteria) -> Listing:
    conditions: list[ColumnElement[bool]] = []
    if criteria.sentiment is not None:
        conditions.append(Prediction.sentiment == criteria.sentiment)
    if criteria.model_version is not None:
        conditions.append(text_equals(Prediction.model_version, criteria.model_version))
    if criteria.member_number is not None:
        conditions.append(Prediction.member_id == member_id_of(criteria.member_number))
    return Listing(Prediction, newest_first(Prediction), tuple(conditions))


ACCURACY_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True)
class ModelPerformanceRow:
    """How one model version did: predictions made, verdicts received, verdicts "correct"."""

    model_version: str
    predictions: int
    feedback_count: int
    correct_count: int

    @property
    def accuracy(self) -> Decimal | None:
        """correct / feedback to 4 places (half up); None before any feedback."""
        if self.feedback_count == 0:
            return None
        ratio = Decimal(self.correct_count) / Decimal(self.feedback_count)
        return ratio.quantize(ACCURACY_QUANTUM, rounding=ROUND_HALF_UP)


# modelPerformance lists at most this many model versions (every list has a cap).
MAX_MODEL_VERSIONS = 100


async def model_performance(session: AsyncSession) -> list[ModelPerformanceRow]:
    """Per model version, in one statement: feedback is first counted per prediction, so the
    outer join yields one row per prediction and counting predictions needs no DISTINCT."""
    verdicts = (
        select(
            Feedback.prediction_id,
            func.count().label("given"),
            func.count().filter(Feedback.is_correct).label("correct"),
        )
        .group_by(Feedback.prediction_id)
        .subquery()
    )
    statement = (
        select(
            Prediction.model_version,
            func.count().label("predictions"),
            func.coalesce(func.sum(verdicts.c.given), 0).label("feedback_count"),
            func.coalesce(func.sum(verdicts.c.correct), 0).label("correct_count"),
        )
        .outerjoin(verdicts, verdicts.c.prediction_id == Prediction.id)
        .group_by(Prediction.model_version)
        .order_by(Prediction.model_version)
        .limit(MAX_MODEL_VERSIONS)
    )
    return [
        ModelPerformanceRow(
            model_version=row.model_version,
            predictions=int(row.predictions),
            feedback_count=int(row.feedback_count),
            correct_count=int(row.correct_count),
        )
        for row in await session.execute(statement)
    ]
