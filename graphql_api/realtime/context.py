"""The GraphQL context of a WebSocket connection and of each subscription on it.

The connection's context carries the viewer from `connection_init`. Each subscription gets
its own copy (subscriptions on one connection run concurrently), and each event it delivers
gets fresh loaders on a RequestDatabase that is closed as soon as the event is sent: an
idle subscription holds no pooled connection and no stale cached row.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from graphql_api.config import Settings
from graphql_api.context import Context
from graphql_api.graph.loaders import Loaders
from graphql_api.realtime.hub import AuditHub, Subscription
from graphql_api.request_db import RequestDatabase


@dataclass
class SubscriptionContext(Context):
    engine: AsyncEngine | None = None
    hub: AuditHub | None = None
    # The operation's hub registrations: removed when the operation ends, however it ends.
    subscriptions: list[Subscription] = dataclasses.field(default_factory=list)

    def for_operation(self) -> "SubscriptionContext":
        return dataclasses.replace(self, subscriptions=[])

    def release_subscriptions(self) -> None:
        if self.hub is not None:
            for subscription in self.subscriptions:
                self.hub.remove(subscription)
        self.subscriptions.clear()

    def fresh_event_scope(self) -> RequestDatabase:
        """New loaders on a new (lazily connected) RequestDatabase; the caller closes it."""
        assert self.engine is not None
        db = RequestDatabase(self.engine)
        self.db = db
        self.loaders = Loaders(db, viewer=self.viewer)
        return db


def connection_context(app_state: Any, settings: Settings, request_id: str) -> SubscriptionContext:
    """Built when a WebSocket connects (before `connection_init`: no viewer yet)."""
    db = RequestDatabase(app_state.engine)
    return SubscriptionContext(
        settings=settings,
        sessionmaker=app_state.sessionmaker,
        db=db,
        loaders=Loaders(db, None),
        request_id=request_id,
        sentiment_model=app_state.sentiment_model,
        pension_client=app_state.pension_client,
        viewer=None,
        engine=app_state.engine,
        hub=getattr(app_state, "audit_hub", None),
    )
