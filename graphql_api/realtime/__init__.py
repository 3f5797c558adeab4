"""Live events: GraphQL subscriptions fed by PostgreSQL LISTEN/NOTIFY (docs/subscriptions.md).

The transaction that writes an audit row also NOTIFYs its id (audit/service.py), so only
committed changes are announced, to every worker on every host. Each worker process holds
one LISTEN connection (listener.py); its hub (hub.py) reads each announced row once and fans
it out to the worker's subscriptions through bounded queues; the GraphQL side (types.py,
resolvers.py, transport.py) applies the caller's role, scope and masking per event.
"""
