"""Running a tool's GraphQL document exactly as /graphql would for the same caller.

Reads that compile take the compiled path (graphql_api/compiled: one SQL statement, the
statement /graphql's middleware would run); everything else runs through
`schema.execute` with a Context built like the HTTP router's (runtime/app.py get_context).
So the policy, validation, idempotency, audit rows and masking are the GraphQL ones.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncEngine

from graphql_api.auth.service import Viewer
from graphql_api.compiled.execute import fetch_json
from graphql_api.compiled.plans import plan_request
from graphql_api.config import Settings
from graphql_api.context import Context
from graphql_api.db import SessionMaker
from graphql_api.db_health import DatabaseUnavailableError, unavailable_cause
from graphql_api.graph.loaders import Loaders
from graphql_api.predictions.sentiment import SentimentModel
from graphql_api.request_db import RequestDatabase
from graphql_api.schema import schema
from graphql_api.telemetry.operation import note_compiled_read
from graphql_api.upstream import PensionClient

logger = logging.getLogger("graphql_api.mcp")


@dataclass(frozen=True)
class Services:
    """What a GraphQL context needs from the process: built by the app's lifespan (HTTP) or
    by `finance-api mcp` (stdio)."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: SessionMaker
    sentiment_model: SentimentModel
    pension_client: PensionClient | None


@dataclass(frozen=True)
class Caller:
    viewer: Viewer
    services: Services
    request_id: str


@dataclass(frozen=True)
class Outcome:
    """GraphQL's answer: `data` and the errors (already masked and coded by the schema)."""

    data: dict[str, Any] | None
    errors: list[GraphQLError]


def new_request_id() -> str:
    return uuid.uuid4().hex


async def run_document(
    caller: Caller,
    document: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    *,
    read_only: bool,
) -> Outcome:
    settings = caller.services.settings
    async with asyncio.timeout(settings.request_timeout_seconds):
        if read_only and settings.compiled_reads:
            data = await _compiled(caller, document, operation_name, variables)
            if data is not None:
                return Outcome(data, [])
        return await _executed(caller, document, operation_name, variables)


async def _compiled(
    caller: Caller, document: str, operation_name: str | None, variables: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The compiled read's data, or None to let the resolvers answer (as over HTTP)."""
    settings = caller.services.settings
    try:
        statement = plan_request(document, operation_name, variables, caller.viewer, settings)
    except Exception:
        logger.exception("compiled read could not be planned; answering with the resolvers")
        return None
    if statement is None:
        return None
    try:
        text = await fetch_json(caller.services.engine, statement)
    except Exception as error:
        if (cause := unavailable_cause(error)) is not None:
            raise DatabaseUnavailableError("a compiled read lost the database") from cause
        logger.exception("compiled read failed; answering with the resolvers")
        return None
    note_compiled_read(document, operation_name)  # the access log's operation and plan
    data: dict[str, Any] = orjson.loads(text)
    return data


async def _executed(
    caller: Caller, document: str, operation_name: str | None, variables: dict[str, Any] | None
) -> Outcome:
    context = _context(caller)
    try:
        result = await schema.execute(
            document,
            variable_values=variables,
            context_value=context,
            operation_name=operation_name,
        )
    finally:
        await context.db.close()
    errors = list(result.errors or ())
    for error in errors:
        if (cause := unavailable_cause(error.original_error)) is not None:
            raise DatabaseUnavailableError("a GraphQL operation lost the database") from cause
    return Outcome(result.data, errors)


def _context(caller: Caller) -> Context:
    services = caller.services
    viewer = caller.viewer
    db = RequestDatabase(services.engine)
    return Context(
        settings=services.settings,
        sessionmaker=services.sessionmaker,
        db=db,
        loaders=Loaders(db, viewer=viewer),
        viewer=viewer,
        request_id=caller.request_id,
        sentiment_model=services.sentiment_model,
        pension_client=services.pension_client,
    )
