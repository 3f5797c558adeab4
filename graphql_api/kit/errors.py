"""Errors that are safe to show to API clients. Anything else is masked as unexpected."""


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
