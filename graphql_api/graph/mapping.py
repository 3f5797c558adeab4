"""Row-backed GraphQL types: each names its model in `__model__` and is built from one row.

The field kinds (graphql_api/graph/declare.py) say what each field is; this module only
builds instances from rows and finds the type of a model (relations name models, and the
generated resolvers need the GraphQL type to build).
"""

import dataclasses
from typing import Any, ClassVar, Self

from graphql_api.models import Base

_TYPE_OF_MODEL: dict[type[Base], type["RowBacked"]] = {}


class RowBacked:
    """Mixin for GraphQL types built from one model row. The first subclass naming a model is
    that model's GraphQL type."""

    __model__: ClassVar[type[Base]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        model = cls.__dict__.get("__model__")
        if model is not None:
            _TYPE_OF_MODEL.setdefault(model, cls)

    @classmethod
    def from_row(cls, row: Base) -> Self:
        return cls(**{name: getattr(row, name) for name in _row_attributes(cls)})


def row_type(model: type[Base]) -> type[RowBacked]:
    """The GraphQL type of a model's rows (its module must have been imported)."""
    return _TYPE_OF_MODEL[model]


_ROW_ATTRIBUTES: dict[type[Any], tuple[str, ...]] = {}


def _row_attributes(cls: type[Any]) -> tuple[str, ...]:
    if cls not in _ROW_ATTRIBUTES:
        fields = dataclasses.fields(cls)
        # Resolver-backed fields (relations, computed values) are not row attributes.
        _ROW_ATTRIBUTES[cls] = tuple(
            f.name for f in fields if f.init and getattr(f, "base_resolver", None) is None
        )
    return _ROW_ATTRIBUTES[cls]
