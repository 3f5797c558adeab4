"""The VADER verdict for the seed messages, computed once: the seeded predictions carry what
model version vader-3.3.2 really says about each text."""

from decimal import Decimal
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from graphql_api.models.enums import Sentiment
from graphql_api.seeding.catalog import MESSAGES

# VADER's documented thresholds on the compound score.
_POSITIVE_FROM = 0.05
_NEGATIVE_TO = -0.05
_FOUR_PLACES = Decimal("0.0001")


def classify(text: str) -> tuple[Sentiment, Decimal]:
    scores = _analyzer().polarity_scores(text)
    compound = float(scores["compound"])
    if compound >= _POSITIVE_FROM:
        label, confidence = Sentiment.POSITIVE, abs(compound)
    elif compound <= _NEGATIVE_TO:
        label, confidence = Sentiment.NEGATIVE, abs(compound)
    else:
        label, confidence = Sentiment.NEUTRAL, float(scores["neu"])
    # str() first: the float's shortest repr, then an exact 4-place Decimal in [0, 1].
    return label, Decimal(str(confidence)).quantize(_FOUR_PLACES)


@cache
def classified_messages() -> tuple[tuple[str, Sentiment, Decimal, Sentiment], ...]:
    """(text, model sentiment, confidence, reviewer sentiment) for every catalog message."""
    return tuple((text, *classify(text), Sentiment(human)) for text, human in MESSAGES)


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()
