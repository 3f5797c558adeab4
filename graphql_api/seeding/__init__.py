"""Seeding: the hand-shaped demo members (`load_demo`) and synthetic members at scale
(`seed_synthetic`). Transport-neutral: talks to PostgreSQL through asyncpg only."""

from graphql_api.seeding.demo import load_demo
from graphql_api.seeding.synthetic import seed_synthetic

__all__ = ["load_demo", "seed_synthetic"]
