"""JSON Schemas for tool inputs, generated from the GraphQL schema's arguments and inputs.

A tool's input is either a root field's argument list or one input object's fields (the
mutations' `input`), so its schema never drifts from what GraphQL accepts. Decimal is a
string in plain notation (as the GraphQL scalar takes it); the range and scale rules stay
the services' (their `userErrors` say which field is wrong).
"""

from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)

from graphql_api.graph.scalars import _DECIMAL_TEXT as DECIMAL_TEXT

JsonSchema = dict[str, Any]

# The Decimal scalar's own lexical rule, taken from the scalar so the two cannot drift: plain
# notation, at most 20 integer digits and 6 decimal places, no '+', exponent, NaN or Infinity.
# A looser pattern let values through that GraphQL then refused with no argument named.
DECIMAL_PATTERN = f"^{DECIMAL_TEXT.pattern}$"
# GraphQL's Int is a signed 32-bit integer.
INT_RANGE = {"minimum": -(2**31), "maximum": 2**31 - 1}

_SCALARS: dict[str, JsonSchema] = {
    "String": {"type": "string"},
    "ID": {"type": "string"},
    "Int": {"type": "integer", **INT_RANGE},
    "Float": {"type": "number"},
    "Boolean": {"type": "boolean"},
    "Decimal": {"type": "string", "pattern": DECIMAL_PATTERN},
    "DateTime": {"type": "string", "format": "date-time"},
    "JSON": {},
}

Field = GraphQLArgument | GraphQLInputField


def object_schema(fields: dict[str, Field], description: str | None = None) -> JsonSchema:
    """An object schema with one property per GraphQL argument or input field: non-null ones
    without a default are required, and nothing else is accepted."""
    properties = {name: _property(field) for name, field in fields.items()}
    required = [
        name
        for name, field in fields.items()
        if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
    ]
    schema: JsonSchema = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = sorted(required)
    if description:
        schema["description"] = description
    return schema


def arguments_schema(graphql_schema: GraphQLSchema, root: str, field: str) -> JsonSchema:
    """The schema of a root field's arguments (e.g. Query.members)."""
    root_type = graphql_schema.get_type(root)
    definition = root_type.fields[field]  # type: ignore[union-attr]
    return object_schema(dict(definition.args), definition.description)


def input_object_schema(graphql_schema: GraphQLSchema, type_name: str) -> JsonSchema:
    """The schema of one input object's fields (e.g. ApplyForLoanInput)."""
    input_type = graphql_schema.get_type(type_name)
    if not isinstance(input_type, GraphQLInputObjectType):
        raise TypeError(f"{type_name} is not an input object type")
    return object_schema(dict(input_type.fields), input_type.description)


def _property(field: Field) -> JsonSchema:
    schema = _type_schema(field.type)
    if field.description:
        schema["description"] = field.description
    return schema


def _type_schema(graphql_type: GraphQLInputType) -> JsonSchema:
    if isinstance(graphql_type, GraphQLNonNull):
        return _nullable_schema(graphql_type.of_type)
    schema = _nullable_schema(graphql_type)
    # A nullable argument or field may be given as JSON null (GraphQL's "not given").
    if isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def _nullable_schema(graphql_type: GraphQLInputType) -> JsonSchema:
    if isinstance(graphql_type, GraphQLList):
        return {"type": "array", "items": _type_schema(graphql_type.of_type)}
    if isinstance(graphql_type, GraphQLEnumType):
        values = list(graphql_type.values)
        schema: JsonSchema = {"type": "string", "enum": values}
        values_described = graphql_type.values.items()
        described = [f"{name}: {value.description}" for name, value in values_described]
        if described:
            schema["description"] = " ".join(described)
        return schema
    if isinstance(graphql_type, GraphQLInputObjectType):
        return object_schema(dict(graphql_type.fields), graphql_type.description)
    if isinstance(graphql_type, GraphQLScalarType):
        return dict(_SCALARS.get(graphql_type.name, {"type": "string"}))
    raise TypeError(f"no JSON Schema for {graphql_type}")
