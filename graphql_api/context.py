"""The per-request GraphQL context: the request's connection, loaders, request id."""

from dataclasses import dataclass

import strawberry
from strawberry.fastapi import BaseContext

from graphql_api.auth import policy
from graphql_api.auth.service import Viewer
from graphql_api.config import Settings
from graphql_api.db import SessionMaker
from graphql_api.graph.loaders import Loaders
from graphql_api.predictions.sentiment import SentimentModel
from graphql_api.request_db import RequestDatabase
from graphql_api.upstream import PensionClient


@dataclass
class Context(BaseContext):
    settings: Settings
    # Mutations open their own transaction from this; reads use `db`.
    sessionmaker: SessionMaker
    # The request's one pooled connection for reads, taken on first use (request_db.py).
    db: RequestDatabase
    loaders: Loaders
    request_id: str
    sentiment_model: SentimentModel
    # None when no provider is configured: syncMember then reports UPSTREAM_UNAVAILABLE.
    pension_client: PensionClient | None
    # The authenticated caller. None only before authentication (a WebSocket before
    # `connection_init`, the GraphiQL page): then every root field is FORBIDDEN and the
    # loaders read no rows (auth/policy.py `read_scope`).
    viewer: Viewer | None = None

    def __post_init__(self) -> None:
        super().__init__()
        # The policy decides what the loaders read, however the caller built them (loaders
        # built without this viewer would read nothing, or, before, too much).
        if self.loaders.scope != policy.read_scope(self.viewer):
            self.loaders = Loaders(self.db, viewer=self.viewer)

    @property
    def actor(self) -> str:
        """Stamped on audit rows."""
        return self.viewer.actor if self.viewer else "anonymous"

    def refresh_loaders(self) -> None:
        """Drop every cached row: called after a mutation commits."""
        self.loaders = Loaders(self.db, viewer=self.viewer)


Info = strawberry.Info[Context, None]
