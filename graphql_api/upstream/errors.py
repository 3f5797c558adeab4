"""Errors raised by the upstream pension provider client.

Messages are written by this package only (never copied from a response body or a request), so
they can be logged and shown to operators without leaking the API key or member data.
"""


class UpstreamError(Exception):
    """Base class of every error the pension provider client raises.

    `attempts` is how many HTTP requests were made for the call (0 when the circuit breaker
    failed the call fast); `status_code` is the last HTTP status seen, if any.
    """

    def __init__(self, message: str, *, attempts: int = 0, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = attempts
        self.status_code = status_code

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, attempts={self.attempts}, "
            f"status_code={self.status_code})"
        )


class UpstreamNotFound(UpstreamError):  # noqa: N818 (names fixed by the API contract)
    """The provider answered 404: it does not know this member. Not a provider failure."""


class UpstreamUnavailable(UpstreamError):  # noqa: N818 (names fixed by the API contract)
    """The provider could not be used: retries exhausted, or the circuit breaker is open."""


class UpstreamAuthError(UpstreamUnavailable):
    """The provider rejected our credentials (401/403).

    A subclass of `UpstreamUnavailable` because, to the caller, the provider is unusable until an
    operator fixes the configuration; it is never retried (the same key would fail again) and it
    counts as a provider failure for the circuit breaker, so a bad key cannot hammer the provider.
    """


class UpstreamBadResponse(UpstreamError):  # noqa: N818 (names fixed by the API contract)
    """The provider answered something outside the contract: malformed JSON, wrong schema,
    out-of-range values, an unexpected status code or an oversized body. Never retried."""


class InvalidMemberNumberError(ValueError):
    """The caller passed a member number that cannot be a provider key (checked before any call,
    so odd input never reaches the URL path)."""
