"""Per-operation limits: token count, depth, aliases, introspection; and error codes for them.

The limits come from the request's Settings (`context.settings`), so one process-wide schema
serves apps configured differently. The validation rules are classes built once per limit
value (`functools.cache`) and never per request: strawberry's `ValidationCache` keys on the
rule tuple, so a fresh class per request (what `QueryDepthLimiter(...)` and
`MaxAliasesLimiter(...)` as per-request factories do, strawberry#4635) would never hit.

The depth and alias rules are our own rather than strawberry's `create_validator`s: those
re-walk a fragment at every spread, so a "fragment bomb" (each fragment spreading the previous
one twice) of 25 levels, ~250 tokens, costs 2^25 visits of blocking CPU. Here each fragment is
measured once (memoised), so the cost is linear in the document.
"""

import sys
from collections.abc import Iterator
from functools import cache
from typing import Any, Final

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import SchemaExtension

from graphql_api.config import Settings, get_settings

QUERY_TOO_DEEP: Final = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES: Final = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS: Final = "TOO_MANY_TOKENS"
INTROSPECTION_DISABLED: Final = "INTROSPECTION_DISABLED"
GRAPHQL_PARSE_FAILED: Final = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED: Final = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT: Final = "BAD_USER_INPUT"


class _FragmentMeasure:
    """Depth and alias count of a document's selection sets, each fragment measured once.
    A fragment that spreads itself (invalid: NoFragmentCyclesRule reports it) counts 0 at
    the repeated spread, as in strawberry's limiters."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._depths: dict[str, int] = {}
        self._aliases: dict[str, int] = {}
        self._visiting: set[str] = set()

    def depth(self, selection_set: SelectionSetNode | None) -> int:
        """Nesting of fields that have selections; introspection fields (`__schema`) and
        leaves count 0 (strawberry's QueryDepthLimiter semantics)."""
        deepest = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if selection.selection_set is None or selection.name.value.startswith("__"):
                    continue
                deepest = max(deepest, 1 + self.depth(selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self.depth(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, self._fragment(selection.name.value, self._depths, True))
        return deepest

    def aliases(self, selection_set: SelectionSetNode | None) -> int:
        """Aliased fields, counted once per place a fragment is spread."""
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += (selection.alias is not None) + self.aliases(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.aliases(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value, self._aliases, False)
        return total

    def _fragment(self, name: str, memo: dict[str, int], depth: bool) -> int:
        if name in memo:
            return memo[name]
        fragment = self._fragments.get(name)
        if fragment is None or name in self._visiting:
            return 0
        self._visiting.add(name)
        try:
            value = (self.depth if depth else self.aliases)(fragment.selection_set)
        finally:
            self._visiting.discard(name)
        memo[name] = value
        return value


def _measure(context: ValidationContext) -> tuple[_FragmentMeasure, list[OperationDefinitionNode]]:
    definitions = context.document.definitions
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    return _FragmentMeasure(fragments), operations


@cache
def depth_limit_rule(max_depth: int) -> type[ValidationRule]:
    """The rule refusing operations nested deeper than `max_depth`: one class per value."""

    class QueryDepthLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measure, operations = _measure(context)
            for operation in operations:
                try:
                    depth = measure.depth(operation.selection_set)
                except RecursionError:  # a chain of hundreds of fragments
                    depth = sys.maxsize
                if depth > max_depth:
                    name = operation.name.value if operation.name else "anonymous"
                    context.report_error(
                        GraphQLError(
                            f"Operation '{name}' is nested too deeply: at most {max_depth}"
                            " levels of fields are allowed.",
                            operation,
                            extensions={"code": QUERY_TOO_DEEP},
                        )
                    )

    QueryDepthLimit.__qualname__ = f"QueryDepthLimit[{max_depth}]"
    return QueryDepthLimit


@cache
def alias_limit_rule(max_aliases: int) -> type[ValidationRule]:
    """The rule refusing documents with more than `max_aliases` aliased fields."""

    class AliasLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measure, operations = _measure(context)
            try:
                total = sum(measure.aliases(operation.selection_set) for operation in operations)
            except RecursionError:  # a chain of hundreds of fragments
                total = sys.maxsize
            if total > max_aliases:
                context.report_error(
                    GraphQLError(
                        f"Too many aliases: at most {max_aliases} are allowed per document.",
                        extensions={"code": TOO_MANY_ALIASES},
                    )
                )

    AliasLimit.__qualname__ = f"AliasLimit[{max_aliases}]"
    return AliasLimit


class NoIntrospection(NoSchemaIntrospectionCustomRule):
    """graphql-core's rule, with a code on its errors."""

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": INTROSPECTION_DISABLED}
        super().report_error(error)


@cache
def validation_rules(
    max_depth: int, max_aliases: int, introspection: bool
) -> tuple[type[ASTValidationRule], ...]:
    """The extra rules for one configuration; the same tuple object every time."""
    rules: tuple[type[ASTValidationRule], ...] = (
        depth_limit_rule(max_depth),
        alias_limit_rule(max_aliases),
    )
    return rules if introspection else (*rules, NoIntrospection)


def rules_for(settings: Settings) -> tuple[type[ASTValidationRule], ...]:
    return validation_rules(
        settings.max_query_depth, settings.max_query_aliases, settings.introspection_enabled
    )


class RequestLimits(SchemaExtension):
    """Applies the request's limits before parsing: `max_tokens` for the parser (graphql-core
    stops lexing past it), then the depth, alias and (in production) no-introspection rules.
    Must come before ParserCache and ValidationCache in the extension list."""

    def on_operation(self) -> Iterator[None]:
        execution_context = self.execution_context
        settings = getattr(execution_context.context, "settings", None)
        if not isinstance(settings, Settings):
            settings = get_settings()
        execution_context.parse_options["max_tokens"] = settings.max_query_tokens
        execution_context.validation_rules = (
            *execution_context.validation_rules,
            *rules_for(settings),
        )
        yield


def add_default_code(error: GraphQLError, *, before_execution: bool) -> None:
    """Give a public error that has no `extensions.code` one a client can branch on.

    graphql-core's parse errors carry no code, so the token and nesting limits are told
    apart by their (stable, graphql-core >= 3.3) messages."""
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        return  # a PublicError: graph/errors.py gives it its own code
    extensions: dict[str, Any] = error.extensions or {}
    if "code" in extensions:
        return
    if isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
        if "tokens. Parsing aborted" in error.message:
            code = TOO_MANY_TOKENS
        elif "nested too deeply" in error.message:
            code = QUERY_TOO_DEEP
        else:
            code = GRAPHQL_PARSE_FAILED
    elif before_execution:
        code = GRAPHQL_VALIDATION_FAILED
    else:
        # Raised by graphql-core while executing, e.g. variable values that do not coerce.
        code = BAD_USER_INPUT
    error.extensions = {**extensions, "code": code}
