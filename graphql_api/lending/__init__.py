"""Loan scoring: versioned, pure policies (no I/O, no GraphQL)."""
