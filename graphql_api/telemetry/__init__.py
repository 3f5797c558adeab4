"""Observability: Prometheus metrics at /metrics, readiness at /readyz, one JSON access-log
line per request, and OpenTelemetry tracing when the OTEL_* variables ask for it.

- `metrics`: the metric objects and their exposition (multiprocess mode for `--workers`);
- `pool`: connection pool gauges (in use, waiting, size) kept current by pool events;
- `access_log`: the middleware that counts, times and logs every request;
- `operation`: how the GraphQL operation (name, type, plan, errors) reaches that record;
- `readiness`: /readyz (database reachable, migrations at head);
- `tracing`: the OpenTelemetry SDK set up from the standard environment variables;
- `install`: `install_telemetry(app, settings)` and the /readyz endpoint, for create_app.
"""
