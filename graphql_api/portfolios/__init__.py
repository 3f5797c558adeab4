"""Portfolio allocation models and validation (no I/O, no GraphQL)."""
