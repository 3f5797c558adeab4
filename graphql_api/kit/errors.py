"""Errors that are safe to show to API clients. Anything else is masked as unexpected."""

from dataclasses import dataclass
from enum import StrEnum


class PublicError(Exception):
    """An expected failure whose message is written for the caller and leaks nothing."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidPageRequestError(PublicError):
    code = "INVALID_PAGE_REQUEST"


class InvalidCursorError(InvalidPageRequestError):
    code = "INVALID_CURSOR"


class ErrorCode(StrEnum):
    """Why a mutation did not happen. Clients and agents branch on these, never on text."""

    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    FORBIDDEN = "FORBIDDEN"
    UPSTREAM_NOT_FOUND = "UPSTREAM_NOT_FOUND"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    UPSTREAM_BAD_RESPONSE = "UPSTREAM_BAD_RESPONSE"


@dataclass(frozen=True)
class Problem:
    """One reason a command was refused; `field` is the path of the offending input."""

    code: ErrorCode
    message: str
    field: tuple[str, ...] = ()


class CommandRefusedError(Exception):
    """Raised by services for expected refusals. Whatever the transaction wrote is rolled
    back, and the transport reports the problems (GraphQL: `userErrors`)."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def refuse(code: ErrorCode, message: str, *field: str) -> CommandRefusedError:
    return CommandRefusedError(Problem(code, message, tuple(field)))
