"""Sentiment prediction models (no I/O, no GraphQL)."""
