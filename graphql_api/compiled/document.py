"""A query document prepared once: parsed with the token limit, validated with the schema's
rules plus the request limits (exactly as the resolver path does), its operation chosen, and
its argument-taking fields ("slots") and @include/@skip directives listed, so each request
only coerces values and looks its statement up.

Any problem (a parse or validation error, a mutation, an unknown operation, a field the
compiler does not cover) makes the document "not compilable": None, and the resolver path
answers, with its own errors.
"""

from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableNode,
    Visitor,
    get_operation_ast,
    parse,
    specified_rules,
    visit,
)
from graphql.execution.collect_fields import FragmentDetails
from strawberry.schema.schema import validate_document

from graphql_api.compiled.arguments import Interpreter, page
from graphql_api.compiled.roots import ROOT_FIELDS
from graphql_api.graph.declare import ConnectionOf
from graphql_api.graph.kinds import type_kinds
from graphql_api.schema import schema

# Compiled statements kept per document: one per (role, argument shapes, directives).
MAX_PLANS_PER_DOCUMENT = 64


@dataclass(frozen=True)
class Slot:
    node: FieldNode
    field: GraphQLField
    interpret: Interpreter
    # Arguments written as literals only (no $variables) mean the same on every request.
    literal: bool = False


@dataclass
class PreparedDocument:
    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    fragment_definitions: dict[str, FragmentDefinitionNode]
    root_fields: frozenset[str]
    slots: tuple[Slot, ...]
    # Selections carrying @include or @skip: their outcome is part of the statement's shape.
    conditional: tuple[FieldNode | InlineFragmentNode | FragmentSpreadNode, ...]
    slot_of_node: dict[int, int]
    plans: dict[Hashable, Any] = field(default_factory=dict)
    # Interpretations of the literal slots, by slot index: coerced once per document.
    literal_slots: dict[int, Any] = field(default_factory=dict)
    # security/cost.py's estimate per (directive outcomes, page sizes).
    costs: dict[Hashable, int] = field(default_factory=dict)


@lru_cache(maxsize=1024)
def prepare(
    query: str, operation_name: str | None, rules: tuple[Any, ...], max_tokens: int
) -> PreparedDocument | None:
    """The prepared document, or None when the resolver path must answer it. Cached per
    query text, operation name and limits (apps with different settings share a process)."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None
    if validate_document(schema._schema, document, (*specified_rules, *rules)):
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    definitions = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    slots = _Slots()
    visit(operation, TypeInfoVisitor(slots.type_info, slots))
    for fragment in definitions.values():
        visit(fragment, TypeInfoVisitor(slots.type_info, slots))
    if slots.unsupported:
        return None
    return PreparedDocument(
        document=document,
        operation=operation,
        fragments={name: FragmentDetails(d) for name, d in definitions.items()},
        fragment_definitions=definitions,
        root_fields=frozenset(_root_field_names(operation.selection_set, definitions, set())),
        slots=tuple(slots.found),
        conditional=tuple(slots.conditional),
        slot_of_node={id(slot.node): index for index, slot in enumerate(slots.found)},
    )


class _Slots(Visitor):
    """Finds every field that takes arguments, and how to interpret them."""

    def __init__(self) -> None:
        super().__init__()
        self.type_info = TypeInfo(schema._schema)
        self.found: list[Slot] = []
        self.conditional: list[FieldNode | InlineFragmentNode | FragmentSpreadNode] = []
        self.unsupported = False
        self._kinds = type_kinds(schema)

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        self._note_condition(node)
        if node.name.value.startswith("__"):
            # `__typename` compiles; introspection (`__schema`, `__type`) is the resolvers'.
            self.unsupported |= node.name.value != "__typename"
            return
        parent = self.type_info.get_parent_type()
        definition = self.type_info.get_field_def()
        if definition is None or not isinstance(parent, GraphQLObjectType):
            return  # `__typename`, or a field of an interface (Node has only `id`)
        if parent is schema._schema.query_type:
            root = ROOT_FIELDS[node.name.value]
            if root.interpreter is not None:
                self.found.append(Slot(node, definition, root.interpreter, _literal(node)))
            return
        if not definition.args:
            return
        kinds = self._kinds.get(parent.name)
        kind = kinds.kinds.get(node.name.value) if kinds else None
        if isinstance(kind, ConnectionOf):
            self.found.append(Slot(node, definition, page(kind.relation.ordering), _literal(node)))
        else:
            self.unsupported = True  # a field with arguments nobody interprets

    def enter_inline_fragment(self, node: InlineFragmentNode, *_: Any) -> None:
        self._note_condition(node)

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self._note_condition(node)

    def _note_condition(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> None:
        if any(_is_condition(d) for d in node.directives or ()):
            self.conditional.append(node)


def _is_condition(directive: DirectiveNode) -> bool:
    return directive.name.value in ("include", "skip")


def _root_field_names(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    visited: set[str],
) -> list[str]:
    """Every root field the operation may select, whatever its directives say."""
    names: list[str] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.append(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names += _root_field_names(selection.selection_set, fragments, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in visited and name in fragments:
                visited.add(name)
                names += _root_field_names(fragments[name].selection_set, fragments, visited)
    return names


def _literal(node: FieldNode) -> bool:
    """Whether the field's arguments hold no variable, at any depth."""
    return not any(_has_variable(argument.value) for argument in node.arguments or ())


def _has_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_has_variable(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_has_variable(item.value) for item in value.fields)
    return False
