"""Sentiment models behind one small interface.

A model is anything with a `version` (stored with each prediction) and a `predict(text)`.
`load_model(name)` picks one by configured name; plugging in another backend is one class plus
one `register_model` call. Models are synchronous and may be CPU-bound, so async callers go
through `predict_async`, which runs them in a worker thread.
"""

import asyncio
import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol, runtime_checkable

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from graphql_api.models.enums import Sentiment

MIN_TEXT_LENGTH = 1
MAX_TEXT_LENGTH = 5000  # predictions.text check constraint
CONFIDENCE_QUANTUM = Decimal("0.0001")  # predictions.confidence is NUMERIC(5, 4)
# VADER's documented thresholds on the compound score.
VADER_POSITIVE_FROM = 0.05
VADER_NEGATIVE_TO = -0.05


class InvalidTextError(ValueError):
    """The text cannot be scored: empty, longer than 5000 characters, or containing NUL."""


class SentimentModelUnavailableError(RuntimeError):
    """The configured model name is unknown or its backend is not installed."""


@dataclass(frozen=True, slots=True)
class SentimentResult:
    """A label and a confidence in [0, 1] with exactly 4 decimal places."""

    sentiment: Sentiment
    confidence: Decimal


@runtime_checkable
class SentimentModel(Protocol):
    """A sentiment classifier. `predict` must be thread-safe: it runs in worker threads."""

    @property
    def version(self) -> str: ...

    def predict(self, text: str) -> SentimentResult:
        """Classify one validated text."""
        ...


def validate_text(text: str) -> str:
    """Return the text unchanged if a model may score it, else raise `InvalidTextError`."""
    if not isinstance(text, str):
        raise InvalidTextError("text must be a string")
    if not MIN_TEXT_LENGTH <= len(text) <= MAX_TEXT_LENGTH:
        raise InvalidTextError(
            f"text must be {MIN_TEXT_LENGTH}-{MAX_TEXT_LENGTH} characters, got {len(text)}"
        )
    if "\x00" in text:
        # PostgreSQL text cannot hold NUL; reject it before the model spends time on it.
        raise InvalidTextError("text must not contain NUL characters")
    return text


def to_confidence(value: float) -> Decimal:
    """A model probability as a 4-place Decimal clamped to [0, 1].

    str() first gives the float's shortest repr, so 0.8478 becomes exactly 0.8478.
    """
    confidence = Decimal(str(value)).quantize(CONFIDENCE_QUANTUM, rounding=ROUND_HALF_UP)
    return min(max(confidence, Decimal(0)), Decimal(1)).quantize(CONFIDENCE_QUANTUM)


class VaderSentimentModel:
    """VADER (rule-based, lexicon shipped with the package, no network).

    Label from the compound score: >= 0.05 POSITIVE, <= -0.05 NEGATIVE, else NEUTRAL.
    Confidence: |compound| for POSITIVE/NEGATIVE (how strongly the text leans that way) and the
    `neu` proportion for NEUTRAL (how much of the text carries no sentiment), so "The meeting
    is on Tuesday" is a confident NEUTRAL and "good and bad" is not. The seeded demo
    predictions use the same rule, so live and seeded confidences are comparable.
    """

    def __init__(self) -> None:
        # Loading the lexicon takes a moment: do it once per model, not per prediction.
        self._analyzer = SentimentIntensityAnalyzer()
        self._version = f"vader-{importlib.metadata.version('vaderSentiment')}"

    @property
    def version(self) -> str:
        """e.g. "vader-3.3.2"."""
        return self._version

    def predict(self, text: str) -> SentimentResult:
        """Classify `text` (validated first)."""
        scores = self._analyzer.polarity_scores(validate_text(text))
        compound = float(scores["compound"])
        if compound >= VADER_POSITIVE_FROM:
            return SentimentResult(Sentiment.POSITIVE, to_confidence(abs(compound)))
        if compound <= VADER_NEGATIVE_TO:
            return SentimentResult(Sentiment.NEGATIVE, to_confidence(abs(compound)))
        return SentimentResult(Sentiment.NEUTRAL, to_confidence(float(scores["neu"])))


ModelFactory = Callable[[str], SentimentModel]
_FACTORIES: dict[str, ModelFactory] = {}


def register_model(kind: str, factory: ModelFactory) -> None:
    """Make `load_model("<kind>")` or `load_model("<kind>:<argument>")` build a model with
    `factory(argument)` (the argument is "" when absent)."""
    if not kind or ":" in kind:
        raise ValueError("model kind must be non-empty and contain no ':'")
    _FACTORIES[kind] = factory


def load_model(name: str) -> SentimentModel:
    """Build the model configured as `name`: "vader", or "<kind>:<argument>" for a
    registered kind. Raises `SentimentModelUnavailableError` for unknown or uninstalled ones."""
    kind, _, argument = name.strip().partition(":")
    factory = _FACTORIES.get(kind)
    if factory is None:
        known = ", ".join(sorted(_FACTORIES))
        raise SentimentModelUnavailableError(
            f"unknown sentiment model {name!r}; known kinds: {known}"
        )
    return factory(argument)


def _vader(argument: str) -> SentimentModel:
    if argument:
        raise SentimentModelUnavailableError("the vader model takes no argument")
    return VaderSentimentModel()


def _transformers(argument: str) -> SentimentModel:
    # The slot for a Hugging Face model: a TransformersSentimentModel class implementing
    # SentimentModel would be built here. Until then, fail with a message that says why.
    if importlib.util.find_spec("transformers") is None:
        raise SentimentModelUnavailableError(
            f"sentiment model 'transformers:{argument}' needs the transformers package, "
            "which is not installed"
        )
    raise SentimentModelUnavailableError(
        "no transformers-backed sentiment model is implemented in this build"
    )


async def predict_async(model: SentimentModel, text: str) -> SentimentResult:
    """Validate on the loop (cheap, fails fast), then run the model in a worker thread so a
    slow model never blocks the event loop."""
    validate_text(text)
    return await asyncio.to_thread(model.predict, text)


register_model("vader", _vader)
register_model("transformers", _transformers)
