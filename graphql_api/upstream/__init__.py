"""Clients for upstream providers (transport-neutral: no GraphQL here)."""

from graphql_api.upstream.config import PensionClientConfig
from graphql_api.upstream.errors import (
    InvalidMemberNumberError,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamNotFound,
    UpstreamUnavailable,
)
from graphql_api.upstream.member_document import UpstreamMember, parse_member
from graphql_api.upstream.pension_client import PensionClient, parse_retry_after

__all__ = [
    "InvalidMemberNumberError",
    "PensionClient",
    "PensionClientConfig",
    "UpstreamAuthError",
    "UpstreamBadResponse",
    "UpstreamError",
    "UpstreamMember",
    "UpstreamNotFound",
    "UpstreamUnavailable",
    "parse_member",
    "parse_retry_after",
]
