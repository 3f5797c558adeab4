"""The GraphQL context of a WebSocket connection and of each subscription on it.

The connection's context carries the viewer from `connection_init`. Each subscription gets
its own copy (subscriptions on one connection run concurrently), and each event it delivers
gets fresh loaders on a RequestDatabase that is closed as soon as the event is sent: an
idle subscription holds no pooled connection and no stale cached row.

While idle (between events, and on the connection itself) a context holds the worker's one
`IdleScope` instead of loaders of its own: a full `Loaders` is dozens of DataLoaders (about
half the memory of an idle connection was two of them, one for the connection and one
rebuilt for each subscription). The idle loaders read nothing: no viewer (no rows), on a
RequestDatabase that is already closed (any use raises RequestEndedError).
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from graphql_api.auth.key_cache import VerifiedKeyCache
from graphql_api.config import Settings
from graphql_api.context import Context
from graphql_api.graph.loaders import Loaders
from graphql_api.realtime.hub import AuditHub, Subscription
from graphql_api.request_db import RequestDatabase


@dataclass(frozen=True)
class IdleScope:
    """What an idle context holds in place of a request's database and loaders."""

    db: RequestDatabase
    loaders: Loaders

    @classmethod
    async def create(cls, engine: AsyncEngine) -> "IdleScope":
        """Inside the worker's event loop (DataLoaders bind to it)."""
        db = RequestDatabase(engine)
        await db.close()
        return cls(db, Loaders(db, viewer=None))


@dataclass
class SubscriptionContext(Context):
    engine: AsyncEngine | None = None
    hub: AuditHub | None = None
    # The operation's hub registrations: removed when the operation ends, however it ends.
    subscriptions: list[Subscription] = dataclasses.field(default_factory=list)
    idle: IdleScope | None = None
    # The worker's verified keys, shared with the HTTP auth middleware (runtime/app.py).
    key_cache: VerifiedKeyCache | None = None

    def __post_init__(self) -> None:
        """Context's check rebuilds loaders that do not match the viewer. An idle context's
        (the worker's IdleScope) read nothing whoever the viewer is, and each event gets
        loaders built from the viewer (`fresh_event_scope`): no rebuild while idle."""
        if self.idle is not None and self.loaders is self.idle.loaders:
            super(Context, self).__init__()  # Context's base, without Context's check
            return
        super().__post_init__()

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

    async def end_event_scope(self, db: RequestDatabase) -> None:
        """The event is sent: its connection goes back, its loaders (and cached rows) go."""
        await db.close()
        if self.idle is not None:
            self.db, self.loaders = self.idle.db, self.idle.loaders


def connection_context(app_state: Any, settings: Settings, request_id: str) -> SubscriptionContext:
    """Built when a WebSocket connects (before `connection_init`: no viewer yet)."""
    idle: IdleScope | None = getattr(app_state, "idle_subscription_scope", None)
    db = idle.db if idle is not None else RequestDatabase(app_state.engine)
    return SubscriptionContext(
        settings=settings,
        sessionmaker=app_state.sessionmaker,
        db=db,
        loaders=idle.loaders if idle is not None else Loaders(db, viewer=None),
        request_id=request_id,
        sentiment_model=app_state.sentiment_model,
        pension_client=app_state.pension_client,
        viewer=None,
        engine=app_state.engine,
        hub=getattr(app_state, "audit_hub", None),
        idle=idle,
        key_cache=getattr(app_state, "verified_keys", None),
    )
