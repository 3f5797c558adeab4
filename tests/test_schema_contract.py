"""schema.graphql is the public contract: it must match the code, describe everything, and
not break clients.

Breaking changes are found by graphql-core's `find_breaking_changes` against schema.graphql
as of a base git revision (tests/schema_history.py says which: FINANCE_API_SCHEMA_BASE, else
the merge-base with the upstream branch, else the parent of the newest commit that changed
schema.graphql). Three pairs are checked: base -> committed contract, base -> code, and
committed contract -> code. A breaking change passes only when its description is listed,
with a reason, in schema-breaking-changes.txt. The check skips (saying why) only when git or
the history is unavailable, e.g. in a shallow clone.
"""

import subprocess
from pathlib import Path

import pytest
from graphql import (
    REMOVE,
    FieldDefinitionNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    Visitor,
    build_schema,
    find_breaking_changes,
    parse,
    print_ast,
    visit,
)

from graphql_api.runtime.cli import main
from graphql_api.schema import schema
from tests.schema_history import BASE_ENV, SchemaHistoryError, schema_base

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "schema.graphql"
ACCEPTED = ROOT / "schema-breaking-changes.txt"
BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def test_schema_file_matches_export(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["export-schema"]) == 0
    exported = capsys.readouterr().out
    assert exported == CONTRACT.read_text(), (
        "schema.graphql drifted: run `finance-api export-schema > schema.graphql`"
    )


def accepted_changes(text: str) -> dict[str, str]:
    """`description | reason` lines (blank lines and # comments skipped) as a dict."""
    accepted: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            description, _, reason = line.partition(" | ")
            accepted[description.strip()] = reason.strip()
    return accepted


def unaccepted_breaking_changes(
    old: GraphQLSchema, new: GraphQLSchema, accepted: dict[str, str]
) -> list[str]:
    """Descriptions of the breaking changes from `old` to `new` not listed in `accepted`."""
    found = [change.description for change in find_breaking_changes(old, new)]
    return [description for description in found if description not in accepted]


def test_accepted_breaking_changes_each_give_a_reason() -> None:
    accepted = accepted_changes(ACCEPTED.read_text())
    assert all(accepted.values()), f"{ACCEPTED.name}: a line without ` | reason`"


def test_no_unaccepted_breaking_changes_since_base_revision() -> None:
    try:
        base = schema_base(ROOT)
    except SchemaHistoryError as why:
        pytest.skip(f"no base revision for the breaking-change check: {why}")
    accepted = accepted_changes(ACCEPTED.read_text())
    before = build_schema(base.sdl)
    committed = build_schema(CONTRACT.read_text())
    pairs = {
        "base -> schema.graphql": (before, committed),
        "base -> code": (before, schema._schema),
        "schema.graphql -> code": (committed, schema._schema),
    }
    breaking = {
        name: found
        for name, (old, new) in pairs.items()
        if (found := unaccepted_breaking_changes(old, new, accepted))
    }
    assert breaking == {}, (
        f"breaking changes against {base.revision[:10]} ({base.rule}); if intended, list "
        f"each in {ACCEPTED.name} as `description | reason`"
    )


def _without_field(sdl: str, type_name: str, field_name: str) -> str:
    """`sdl` with one field of one object type removed."""

    class RemoveField(Visitor):
        def enter_object_type_definition(self, node, *_):  # type: ignore[no-untyped-def]
            if node.name.value != type_name:
                return self.SKIP
            return None

        def enter_field_definition(self, node: FieldDefinitionNode, *_):  # type: ignore[no-untyped-def]
            return REMOVE if node.name.value == field_name else self.SKIP

    return print_ast(visit(parse(sdl), RemoveField()))


def test_the_check_reports_a_removed_field_unless_accepted() -> None:
    contract = CONTRACT.read_text()
    base, broken = (
        build_schema(contract),
        build_schema(_without_field(contract, "Query", "members")),
    )
    assert unaccepted_breaking_changes(base, broken, {}) == ["Field Query.members was removed."]
    accepted = {"Field Query.members was removed.": "a reason"}
    assert unaccepted_breaking_changes(base, broken, accepted) == []


def _commit_contract(repo: Path, sdl: str) -> str:
    (repo / "schema.graphql").write_text(sdl)
    for command in (["add", "schema.graphql"], ["commit", "-q", "-m", "contract"]):
        subprocess.run(["git", "-C", str(repo), *command], check=True)
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_base_is_the_contract_before_its_newest_change(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(BASE_ENV, raising=False)
    for env in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(env, "test")
    for env in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(env, "test@example.invalid")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    first = _commit_contract(tmp_path, "type Query { a: Int, b: Int }\n")
    with pytest.raises(SchemaHistoryError, match="no earlier version"):
        schema_base(tmp_path)
    _commit_contract(tmp_path, "type Query { a: Int }\n")
    base = schema_base(tmp_path)
    assert (base.revision, base.sdl) == (first, "type Query { a: Int, b: Int }\n")
    removed = find_breaking_changes(build_schema(base.sdl), build_schema("type Query { a: Int }"))
    assert [change.description for change in removed] == ["Field Query.b was removed."]
    (tmp_path / "schema.graphql").write_text("type Query { c: Int }\n")
    assert "uncommitted" in schema_base(tmp_path).rule
    monkeypatch.setenv(BASE_ENV, first[:10])
    assert schema_base(tmp_path).revision == first


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
