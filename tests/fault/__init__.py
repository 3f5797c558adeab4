"""Fault suite (`pytest -m fault`): real servers and a real PostgreSQL under injected faults."""
