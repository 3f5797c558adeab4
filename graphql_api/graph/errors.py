"""Error exposure. Public errors (PublicError, and GraphQL's own parse/validation/coercion
errors) reach the client with a stable `extensions.code`; anything else is masked as
"Unexpected error" plus the request id, and its details go to the server log only.

Errors that say the database cannot be reached are left alone: the router turns the whole
operation into HTTP 503 (graphql_api/unavailable.py), which logs them once per request."""

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from graphql_api.db_health import is_database_unavailable
from graphql_api.kit.errors import PublicError

logger = logging.getLogger("graphql_api.errors")


def is_public(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, GraphQLError | PublicError)


class PublicOrMaskedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_mask)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        for error in errors:
            _add_code(error)
        return super()._process_errors(errors)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = _request_id(self.execution_context.context)
        logger.error(
            "unexpected error at %s (request %s)",
            error.path,
            request_id,
            exc_info=error.original_error,
        )
        masked = super().anonymise_error(error)
        masked.message = f"Unexpected error (request id {request_id})."
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked


def mask_escaped(errors: list[GraphQLError], request_id: str) -> list[GraphQLError]:
    """The last line of masking. strawberry (0.341) skips MaskErrors for an exception raised
    inside an extension's hook (the cost limit, the request limits), which then reached the
    client as its raw text with no code; whatever got past is masked here the same way."""
    return [_masked(error, request_id) if _should_mask(error) else error for error in errors]


def _masked(error: GraphQLError, request_id: str) -> GraphQLError:
    logger.error(
        "unexpected error at %s (request %s)",
        error.path,
        request_id,
        exc_info=error.original_error,
    )
    return GraphQLError(
        f"Unexpected error (request id {request_id}).",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


def _should_mask(error: GraphQLError) -> bool:
    if is_public(error):
        return False
    return error.original_error is None or not is_database_unavailable(error.original_error)


def _add_code(error: GraphQLError) -> None:
    original = error.original_error
    if isinstance(original, PublicError):
        extensions = {**(error.extensions or {}), "code": original.code}
        if original.field:
            extensions["field"] = list(original.field)
        error.extensions = extensions


def _request_id(context: object) -> str:
    return str(getattr(context, "request_id", "unknown"))
