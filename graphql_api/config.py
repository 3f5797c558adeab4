"""Settings from the environment (pydantic-settings). One place for every knob."""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINANCE_API_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    # The usual postgresql://user:password@host:port/db form; unset means embedded PostgreSQL.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "FINANCE_API_DATABASE_URL")
    )
    data_dir: Path = Path(".finance-api")
    # A request holds at most one pooled connection, so the pool size is how many requests
    # read at once; no overflow: connections stay open instead of churning under load.
    db_pool_size: int = Field(default=20, ge=1, le=200)
    db_max_overflow: int = Field(default=0, ge=0, le=200)
    # How long a request waits for a pooled connection before it gets 503 SERVICE_UNAVAILABLE.
    db_pool_timeout_seconds: float = Field(default=1.0, gt=0)
    # Retry-After (seconds) on 503 SERVICE_UNAVAILABLE when the database is unreachable.
    db_unavailable_retry_after_seconds: int = Field(default=2, ge=1)
    db_statement_timeout_ms: int = Field(default=5000, ge=0)
    # Adds `extensions.sqlStatements` to responses: what the tests and the benchmark read.
    expose_query_stats: bool | None = None
    graphiql: bool | None = None
    # The local admin key file whose key GraphiQL's page carries for the developer's own
    # browser (graphql_api/ide/local_key.py); only `serve` on the embedded database sets it.
    ide_admin_key_file: Path | None = None
    # Schema introspection (`__schema`, `__type`); default: on in development, off in production.
    introspection: bool | None = None

    # Request limits (graphql_api/security). Over-limit requests are refused before any SQL.
    max_query_depth: int = Field(default=10, ge=1)
    max_query_aliases: int = Field(default=30, ge=0)
    max_query_tokens: int = Field(default=2000, ge=1)
    max_request_body_bytes: int = Field(default=100 * 1024, ge=1)
    # Worst-case objects an operation may return (security/cost.py); over it the operation is
    # refused with QUERY_TOO_COMPLEX before any SQL runs.
    max_query_nodes: int = Field(default=100_000, ge=1)
    # Responses larger than this are replaced by a RESPONSE_TOO_LARGE error.
    max_response_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    # A connection must deliver its request headers within this time, or it is closed.
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    # The whole request, body upload included; past it the client gets REQUEST_TIMEOUT and the
    # request's database work is cancelled.
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    # Live API keys are remembered this long per process (0: look every key up every time);
    # a revoked key stops working within this time.
    api_key_cache_seconds: float = Field(default=5.0, ge=0)
    # Token bucket per API key (client IP without one), per worker process: sustained rate
    # and burst size. Disabled when rate_limit_enabled is false.
    rate_limit_enabled: bool = True
    rate_limit_per_second: float = Field(default=20.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # Memory bound: at most this many buckets are tracked (idle ones are dropped first).
    rate_limit_max_clients: int = Field(default=100_000, ge=1)
    # With a Redis URL the buckets live in Redis, so every worker and host shares one limit.
    redis_url: str | None = None
    # After start-up, freeze the start-up objects out of the garbage collector's scans and raise
    # its thresholds (graphql_api/runtime/serve.py: tuned_gc), in every worker process.
    gc_tuning: bool = True
    # The upstream pension provider (syncMember). Unset base URL: sync is refused as
    # UPSTREAM_UNAVAILABLE. `serve` on the embedded database points it at the sandbox.
    pension_api_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PENSION_API_BASE_URL")
    )
    pension_api_key: SecretStr = Field(
        default=SecretStr("sandbox-key"), validation_alias=AliasChoices("PENSION_API_KEY")
    )
    # syncMember stops retrying the provider this long before the request's deadline.
    upstream_deadline_margin_seconds: float = Field(default=1.0, ge=0)
    # Which sentiment model predictSentiment uses: "vader", or a registered plug-in name.
    sentiment_model: str = "vader"
    # Reads that compile run as ONE SQL statement whose JSON PostgreSQL builds
    # (graphql_api/compiled); off: every operation runs on the resolvers.
    compiled_reads: bool = True
    # Observability (graphql_api/telemetry). GET /metrics in Prometheus text format, without an
    # API key: keep it off the public ingress, or set metrics_token (then it needs
    # `Authorization: Bearer <token>`), or turn it off.
    metrics_enabled: bool = True
    metrics_token: SecretStr | None = None
    # One JSON line per request on the "graphql_api.access" logger (stdout unless configured).
    access_log: bool = True
    # GET /readyz gives up on the database after this long (and answers 503).
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)

    # Subscriptions over graphql-transport-ws at /graphql (graphql_api/realtime). Limits are
    # per worker process: active subscriptions per API key; events waiting per subscription
    # (the burst a subscriber may fall behind by: an event that finds the queue full ends that
    # subscription at once with SLOW_CONSUMER, and fan-out never waits for anyone); how long
    # a client has for `connection_init`; how long a connection may have no subscription;
    # the most missed events a reconnect may replay with `after`.
    subscriptions_enabled: bool = True
    subscriptions_per_key: int = Field(default=100, ge=1)
    subscription_queue_size: int = Field(default=256, ge=1)
    ws_connection_init_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_idle_timeout_seconds: float = Field(default=300.0, gt=0)
    # An open connection's key is looked up again this often; a revoked key's is closed (4403).
    ws_key_recheck_seconds: float = Field(default=60.0, gt=0)
    subscription_replay_limit: int = Field(default=1000, ge=1)
    # uvicorn's WebSocket settings (runtime/serve.py): server pings every interval, and a
    # peer that does not answer within the timeout is dropped; larger messages close 1009.
    ws_ping_interval_seconds: float = Field(default=20.0, gt=0)
    ws_ping_timeout_seconds: float = Field(default=20.0, gt=0)
    ws_max_message_bytes: int = Field(default=64 * 1024, ge=1024)

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def query_stats_enabled(self) -> bool:
        if self.expose_query_stats is not None:
            return self.expose_query_stats
        return not self.is_production

    @property
    def graphiql_enabled(self) -> bool:
        if self.graphiql is not None:
            return self.graphiql
        return not self.is_production

    @property
    def introspection_enabled(self) -> bool:
        if self.introspection is not None:
            return self.introspection
        return not self.is_production

    # The role the API connects as (docs/database-roles.md): `migrate` and `seed` (and `serve`
    # on the embedded server) re-apply its grants after migrating, if it exists; "" skips that.
    app_db_role: str = Field(default="finance_app", pattern=r"^([A-Za-z_][A-Za-z0-9_]{0,62})?$")

    # MCP over streamable HTTP at /mcp (graphql_api/mcp_server): the largest JSON-RPC body
    # accepted (HTTP 413 beyond it; the /graphql guard's limit does not cover /mcp).
    mcp_max_request_body_bytes: int = Field(default=256 * 1024, ge=1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
