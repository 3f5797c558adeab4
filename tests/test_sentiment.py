"""The VADER sentiment model, text validation and model loading."""

import asyncio
import threading
from decimal import Decimal

import pytest

from graphql_api.models.enums import Sentiment
from graphql_api.predictions.sentiment import (
    InvalidTextError,
    SentimentModel,
    SentimentModelUnavailableError,
    SentimentResult,
    VaderSentimentModel,
    load_model,
    predict_async,
    to_confidence,
    validate_text,
)


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return load_model("vader")


def test_version_and_protocol(model: SentimentModel) -> None:
    assert model.version == "vader-3.3.2"
    assert isinstance(model, SentimentModel)
    assert isinstance(model, VaderSentimentModel)


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("I love this pension fund, the service is excellent!", Sentiment.POSITIVE),
        ("Thank you so much, you were wonderful and very helpful.", Sentiment.POSITIVE),
        ("This is terrible, I am very angry and disappointed.", Sentiment.NEGATIVE),
        ("The worst experience ever, awful and useless support.", Sentiment.NEGATIVE),
        ("The meeting is on Tuesday at 10am.", Sentiment.NEUTRAL),
        ("My address changed last month.", Sentiment.NEUTRAL),
    ],
)
def test_clear_sentences(model: SentimentModel, text: str, sentiment: Sentiment) -> None:
    result = model.predict(text)
    assert result.sentiment is sentiment
    assert Decimal(0) <= result.confidence <= Decimal(1)
    assert result.confidence.as_tuple().exponent == -4


def test_confidence_rule(model: SentimentModel) -> None:
    # Strongly worded text is confidently classified; plain facts are confidently neutral.
    assert model.predict("I love this pension fund, the service is excellent!").confidence == (
        Decimal("0.8478")
    )
    assert model.predict("The meeting is on Tuesday at 10am.").confidence == Decimal("1.0000")
    # Mixed feelings: a label, but a low confidence.
    assert model.predict("good and bad").confidence < Decimal("0.5")


def test_to_confidence_clamps_and_quantizes() -> None:
    assert to_confidence(0.12345) == Decimal("0.1235")  # half up
    assert to_confidence(1.2) == Decimal("1.0000")
    assert to_confidence(-0.1) == Decimal("0.0000")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "1-5000 characters, got 0"),
        ("x" * 5001, "got 5001"),
        ("hello\x00world", "NUL"),
    ],
)
def test_invalid_text_is_rejected(model: SentimentModel, text: str, message: str) -> None:
    with pytest.raises(InvalidTextError, match=message):
        model.predict(text)
    with pytest.raises(InvalidTextError, match=message):
        validate_text(text)


def test_longest_allowed_text(model: SentimentModel) -> None:
    assert model.predict("fine " * 1000).sentiment is Sentiment.POSITIVE  # 5000 characters


@pytest.mark.asyncio
async def test_predict_async_runs_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    class Recording:
        version = "recording-1"

        def predict(self, text: str) -> SentimentResult:
            seen.append(threading.get_ident())
            return SentimentResult(Sentiment.NEUTRAL, Decimal("0.5000"))

    result = await predict_async(Recording(), "hello")
    assert result.confidence == Decimal("0.5000")
    assert len(seen) == 1
    assert seen[0] != loop_thread
    with pytest.raises(InvalidTextError):
        await predict_async(Recording(), "")
    assert len(seen) == 1  # invalid text never reached the model


@pytest.mark.asyncio
async def test_predict_async_with_vader(model: SentimentModel) -> None:
    results = await asyncio.gather(
        *(predict_async(model, text) for text in ["great!", "awful!", "a table"])
    )
    assert [r.sentiment for r in results] == [
        Sentiment.POSITIVE,
        Sentiment.NEGATIVE,
        Sentiment.NEUTRAL,
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("transformers:distilbert-base-uncased", "transformers"),
        ("gpt", "unknown sentiment model"),
        ("vader:extra", "no argument"),
    ],
)
def test_load_model_errors(name: str, message: str) -> None:
    with pytest.raises(SentimentModelUnavailableError, match=message):
        load_model(name)
