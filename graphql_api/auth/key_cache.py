"""Verified API keys, remembered in-process for a few seconds.

Every GraphQL request needs its key checked; a hot key should not cost a database round trip
(and a pooled connection) on each of them. Only keys found live are remembered, by the
SHA-256 of the token (the token itself is never kept), for `ttl_seconds`: so a revocation
takes effect within that time in every worker, and an unknown or revoked key is looked up
every time. The cache is bounded; the least recently used entry goes first. A TTL of 0
turns it off.
"""

import time
from collections import OrderedDict

from graphql_api.auth.service import Viewer

DEFAULT_MAX_ENTRIES = 10_000


class VerifiedKeyCache:
    def __init__(self, ttl_seconds: float, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Viewer]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0 and self.max_entries > 0

    def get(self, token_hash: str) -> Viewer | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        expires_at, viewer = entry
        if time.monotonic() >= expires_at:
            del self._entries[token_hash]
            return None
        self._entries.move_to_end(token_hash)
        return viewer

    def put(self, token_hash: str, viewer: Viewer) -> None:
        if not self.enabled:
            return
        self._entries[token_hash] = (time.monotonic() + self.ttl_seconds, viewer)
        self._entries.move_to_end(token_hash)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
