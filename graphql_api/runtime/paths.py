"""Where the migrations and data files live: beside the package in a checkout, or bundled in
the wheel (pyproject force-includes them under graphql_api/_bundled)."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # graphql_api/, not runtime/


def _resource(name: str) -> Path:
    bundled = _PACKAGE / "_bundled" / name
    return bundled if bundled.is_dir() else _PACKAGE.parent / name


def migrations_dir() -> Path:
    return _resource("migrations")


def data_dir() -> Path:
    return _resource("data")
