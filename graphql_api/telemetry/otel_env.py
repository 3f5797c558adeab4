"""Does the environment ask for tracing? Read without importing the OpenTelemetry SDK, so an
app that does not trace never loads it (see tracing.py for the rules)."""

import os
from collections.abc import Mapping


def exporter_names(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The exporters the environment asks for; empty means tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    requested = environ.get("OTEL_TRACES_EXPORTER")
    if requested is None:
        endpoint_set = any(
            environ.get(name)
            for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        )
        return ["otlp"] if endpoint_set else []
    names = [name.strip().lower() for name in requested.split(",")]
    return [name for name in names if name and name != "none"]
