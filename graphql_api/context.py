"""The per-request GraphQL context: session factory, loaders, request id."""

from dataclasses import dataclass

import strawberry
from strawberry.fastapi import BaseContext

from graphql_api.config import Settings
from graphql_api.db import SessionMaker
from graphql_api.graph.loaders import Loaders


@dataclass
class Context(BaseContext):
    settings: Settings
    sessionmaker: SessionMaker
    loaders: Loaders
    request_id: str

    def __post_init__(self) -> None:
        super().__init__()


Info = strawberry.Info[Context, None]
