"""The per-request GraphQL context: session factory, loaders, request id."""

from dataclasses import dataclass

import strawberry
from strawberry.fastapi import BaseContext

from graphql_api.config import Settings
from graphql_api.db import SessionMaker
from graphql_api.graph.loaders import Loaders
from graphql_api.predictions.sentiment import SentimentModel
from graphql_api.upstream import PensionClient


@dataclass
class Context(BaseContext):
    settings: Settings
    sessionmaker: SessionMaker
    loaders: Loaders
    request_id: str
    sentiment_model: SentimentModel
    # None when no provider is configured: syncMember then reports UPSTREAM_UNAVAILABLE.
    pension_client: PensionClient | None
    # Who is calling; stamped on audit rows. API keys (issue 4) will name the caller.
    actor: str = "anonymous"

    def __post_init__(self) -> None:
        super().__init__()

    def refresh_loaders(self) -> None:
        """Drop every cached row: called after a mutation commits."""
        self.loaders = Loaders(self.sessionmaker)


Info = strawberry.Info[Context, None]
