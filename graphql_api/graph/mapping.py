"""The declarative mapping between GraphQL object types and models, one place per type.

A row-backed type names its model in `__model__`. Every dataclass field of the type (the
exposed columns, the NodeID and any `strawberry.Private` keys) is read from the model
attribute of the same name; relation fields carry their relation spec in field metadata.
`mapping_of` returns that description, which the loaders use today and which a whole-query
SQL planner can walk later without a second copy of the mapping.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from graphql_api.kit.relations import ToMany, ToOne
from graphql_api.models import Base

RELATION_KEY = "finance_api.relation"


def relation_metadata(relation: ToOne | ToMany) -> dict[str, Any]:
    return {RELATION_KEY: relation}


class RowBacked:
    """Mixin for GraphQL types built from one model row."""

    __model__: ClassVar[type[Base]]

    @classmethod
    def from_row(cls, row: Base) -> Self:
        return cls(**{name: getattr(row, name) for name in _row_attributes(cls)})


_ROW_ATTRIBUTES: dict[type[Any], tuple[str, ...]] = {}


def _row_attributes(cls: type[Any]) -> tuple[str, ...]:
    if cls not in _ROW_ATTRIBUTES:
        fields = dataclasses.fields(cls)
        # Resolver-backed fields (relations, the Relay `id`) are not row attributes.
        _ROW_ATTRIBUTES[cls] = tuple(
            f.name for f in fields if f.init and getattr(f, "base_resolver", None) is None
        )
    return _ROW_ATTRIBUTES[cls]


@dataclass(frozen=True)
class TypeMapping:
    graphql_name: str
    model: type[Base]
    columns: dict[str, str]  # GraphQL field name -> model attribute
    relations: dict[str, ToOne | ToMany]  # GraphQL field name -> relation


def mapping_of(cls: type[RowBacked]) -> TypeMapping:
    definition = get_object_definition(cls, strict=True)
    columns: dict[str, str] = {}
    relations: dict[str, ToOne | ToMany] = {}
    row_attributes = set(_row_attributes(cls))
    for field in definition.fields:
        name = field.graphql_name or to_camel_case(field.python_name)
        metadata: Mapping[str, Any] = field.metadata or {}
        relation = metadata.get(RELATION_KEY)
        if relation is not None:
            relations[name] = relation
        elif field.python_name in row_attributes and field.base_resolver is None:
            columns[name] = field.python_name
    return TypeMapping(definition.name, cls.__model__, columns, relations)
