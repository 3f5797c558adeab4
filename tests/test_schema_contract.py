"""schema.graphql is the public contract: it must match the code, and describe everything."""

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
    find_breaking_changes,
)

from graphql_api.cli import main
from graphql_api.schema import schema

CONTRACT = Path(__file__).resolve().parent.parent / "schema.graphql"
BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def test_schema_file_matches_export(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["export-schema"]) == 0
    exported = capsys.readouterr().out
    assert exported == CONTRACT.read_text(), (
        "schema.graphql drifted: run `finance-api export-schema > schema.graphql`"
    )


def test_no_breaking_changes_against_contract() -> None:
    committed = build_schema(CONTRACT.read_text())
    assert find_breaking_changes(committed, schema._schema) == []


def _undocumented() -> list[str]:
    missing: list[str] = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg})"
                    for arg, a in field.args.items()
                    if not a.description
                ]
        elif isinstance(graphql_type, GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, v in graphql_type.fields.items() if not v.description]
        elif isinstance(graphql_type, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, d in graphql_type.values.items() if not d.description]
    return missing


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    assert _undocumented() == []
