"""Pension members and their pension accounts."""
