"""API keys: creation (token shown once), listing, revocation and authentication."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.kit.errors import ErrorCode, refuse
from graphql_api.models import ApiKey, Member, Role

TOKEN_PREFIX = "fgk_"  # noqa: S105 - a public marker, not a secret
# 32 random bytes -> 43 url-safe characters; anything else cannot be one of our tokens.
_TOKEN_SHAPE = re.compile(r"fgk_[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class Viewer:
    """The authenticated caller. `member_id` is set for MEMBER keys: their whole view."""

    key_id: int
    role: Role
    member_id: int | None
    label: str

    @property
    def actor(self) -> str:
        return f"api-key:{self.key_id}" + (f" ({self.label})" if self.label else "")


@dataclass(frozen=True)
class KeyListing:
    id: int
    role: Role
    member_number: str | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return _TOKEN_SHAPE.fullmatch(token) is not None


async def create_key(
    session: AsyncSession, *, role: Role, member_number: str | None, label: str
) -> tuple[int, str]:
    """Store a new key; return its id and the plain token (never stored, never shown again)."""
    member_id = None
    if role is Role.MEMBER:
        if not member_number:
            raise refuse(ErrorCode.INVALID_INPUT, "A MEMBER key needs --member.", "member")
        member_id = await session.scalar(
            select(Member.id).where(Member.member_number == member_number)
        )
        if member_id is None:
            raise refuse(ErrorCode.NOT_FOUND, f"No member {member_number!r}.", "member")
    elif member_number:
        raise refuse(ErrorCode.INVALID_INPUT, "Only MEMBER keys are bound to a member.", "member")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(token_hash=hash_token(token), role=role, member_id=member_id, label=label)
    session.add(key)
    await session.flush()
    return key.id, token


async def list_keys(session: AsyncSession) -> list[KeyListing]:
    rows = await session.execute(
        select(ApiKey, Member.member_number)
        .outerjoin(Member, Member.id == ApiKey.member_id)
        .order_by(ApiKey.id)
    )
    return [
        KeyListing(key.id, key.role, number, key.label, key.created_at, key.revoked_at)
        for key, number in rows
    ]


async def revoke_key(session: AsyncSession, key_id: int) -> bool:
    """Revoke a key (idempotent); False when there is no such key."""
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .values(revoked_at=func.coalesce(ApiKey.revoked_at, func.now()))
        .returning(ApiKey.id)
    )
    return result.scalar_one_or_none() is not None


async def authenticate(session: AsyncSession, token: str) -> Viewer | None:
    """The viewer for a live key, or None for anything unknown, malformed or revoked.
    The HTTP middleware remembers live keys for a few seconds (auth/key_cache.py), so a
    revocation reaches the API within that time."""
    if not looks_like_token(token):
        return None
    key = await session.scalar(
        select(ApiKey).where(ApiKey.token_hash == hash_token(token), ApiKey.revoked_at.is_(None))
    )
    if key is None:
        return None
    return Viewer(key_id=key.id, role=key.role, member_id=key.member_id, label=key.label)
