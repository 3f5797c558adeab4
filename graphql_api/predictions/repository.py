"""Prediction queries."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement

from graphql_api.kit.listing import Listing
from graphql_api.kit.pagination import newest_first
from graphql_api.members.repository import member_id_of
from graphql_api.models import Prediction, Sentiment


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
        conditions.append(Prediction.model_version == criteria.model_version)
    if criteria.member_number is not None:
        conditions.append(Prediction.member_id == member_id_of(criteria.member_number))
    return Listing(Prediction, newest_first(Prediction), tuple(conditions))
