"""OpenTelemetry tracing: off unless the standard OTEL_* variables ask for it.

On when `OTEL_TRACES_EXPORTER` names an exporter other than `none`, or, without it, when
`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (then `otlp`);
always off with `OTEL_SDK_DISABLED=true`. `otlp` means OTLP over HTTP/protobuf (the exporter
this project ships; `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` needs
opentelemetry-exporter-otlp-proto-grpc installed); `console` prints spans; any other name is
looked up among the installed exporters' entry points, as the SDK's own auto-configuration
does. Everything else is the SDK's own environment handling: `OTEL_SERVICE_NAME` (default
"finance-graphql"), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_BSP_*`, the
exporter's endpoint, headers, timeout and compression.

Spans, through the official instrumentations: one SERVER span per request (ASGI; probes and
/metrics excluded unless `OTEL_PYTHON_ASGI_EXCLUDED_URLS` says otherwise), tagged with the
GraphQL operation, role, outcome and request id by the access log; a CLIENT span per SQL
statement (SQLAlchemy); a CLIENT span per upstream HTTP attempt (httpx). The SQLAlchemy and
httpx instrumentations patch process-wide, so they are switched on for the app's lifetime
(its lifespan) and off after it.
"""

import logging
import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Final

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.util.http import parse_excluded_urls
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from graphql_api.telemetry.otel_env import exporter_names

logger = logging.getLogger("graphql_api.telemetry")

DEFAULT_SERVICE_NAME: Final = "finance-graphql"
EXPORTER_GROUP: Final = "opentelemetry_traces_exporter"
DEFAULT_EXCLUDED_URLS: Final = r"/healthz$,/readyz$,/metrics$"
_OTLP_BY_PROTOCOL: Final = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}


def span_exporter(name: str, environ: Mapping[str, str]) -> SpanExporter:
    """The exporter the name stands for (`otlp` per OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL)."""
    if name == "otlp":
        protocol = environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        )
        if protocol.strip() not in _OTLP_BY_PROTOCOL:
            raise RuntimeError(f"OTLP protocol {protocol!r}: use http/protobuf or grpc")
        name = _OTLP_BY_PROTOCOL[protocol.strip()]
    found = list(entry_points(group=EXPORTER_GROUP, name=name))
    if not found:
        raise RuntimeError(f"OTEL_TRACES_EXPORTER: no span exporter named {name!r} is installed")
    exporter: SpanExporter = found[0].load()()
    return exporter


def _resource() -> Resource:
    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; without a name
    # there the SDK says "unknown_service".
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return resource


def tracer_provider_from_env(environ: Mapping[str, str] = os.environ) -> TracerProvider | None:
    """A provider exporting to what the environment names, or None when tracing is off.
    The sampler, span limits and batch settings come from the SDK's own variables."""
    names = exporter_names(environ)
    if not names:
        return None
    provider = TracerProvider(resource=_resource())
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(span_exporter(name, environ)))
    return provider


def trace_requests(app: Starlette, provider: TracerProvider) -> None:
    """The SERVER span around every request: add it last, so it is the outermost."""
    excluded = os.environ.get(
        "OTEL_PYTHON_ASGI_EXCLUDED_URLS",
        os.environ.get("OTEL_PYTHON_EXCLUDED_URLS", DEFAULT_EXCLUDED_URLS),
    )
    app.add_middleware(
        OpenTelemetryMiddleware,
        excluded_urls=parse_excluded_urls(excluded),
        tracer_provider=provider,
        # One span per request, not one more per ASGI message.
        exclude_spans=["receive", "send"],
    )


class ClientSpans:
    """SQL and upstream HTTP spans for the app's lifetime: `start` in its start-up, `stop` at
    shutdown (undoes the process-wide patches this one made, and flushes the exporter)."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._patched: list[SQLAlchemyInstrumentor | HTTPXClientInstrumentor] = []

    def start(self, engine: AsyncEngine) -> None:
        sqlalchemy = SQLAlchemyInstrumentor()
        if sqlalchemy.is_instrumented_by_opentelemetry:
            logger.warning("SQLAlchemy is already traced in this process; not tracing it again")
        else:
            # The instrumentation declares "sqlalchemy < 2.1" and would do nothing here; the
            # cursor events it listens to are unchanged in 2.1 (tests/test_observability.py).
            sqlalchemy.instrument(
                engine=engine.sync_engine, tracer_provider=self.provider, skip_dep_check=True
            )
            self._patched.append(sqlalchemy)
        httpx = HTTPXClientInstrumentor()
        if not httpx.is_instrumented_by_opentelemetry:
            httpx.instrument(tracer_provider=self.provider)
            self._patched.append(httpx)
        # For anything else that asks the API for a tracer (the first provider set stays).
        if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            trace.set_tracer_provider(self.provider)

    def stop(self) -> None:
        while self._patched:
            self._patched.pop().uninstrument()
        self.provider.shutdown()
