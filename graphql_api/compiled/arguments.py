"""What a field's arguments mean, checked before any SQL exists.

Each argument-taking field of a document is a *slot*. Per request its coerced arguments are
interpreted into a `shape` (what changes the statement's text: whether `after` is given,
which filters are set, which type a global id names) and `values` (what is bound). Anything
the resolver path would refuse (a `first` out of range, a foreign cursor, an unstorable
string, an out-of-range instant) raises Fallback, so the resolver path produces the error
with its exact message and path.
"""

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from strawberry.relay import GlobalID
from strawberry.relay.types import GlobalIDValueError

from graphql_api.compiled.base import Fallback
from graphql_api.kit.errors import PublicError
from graphql_api.kit.pagination import Ordering, PageRequest
from graphql_api.kit.text import parse_row_id, storable


@dataclass(frozen=True)
class Interpreted:
    shape: Hashable
    values: Mapping[str, Any]


Interpreter = Callable[[Mapping[str, Any]], Interpreted]
NO_ARGUMENTS = Interpreted((), {})


def page_values(args: Mapping[str, Any], ordering: Ordering) -> tuple[bool, dict[str, Any]]:
    """`first` / `after` as PageRequest.create reads them: (after given?, bound values)."""
    try:
        request = PageRequest.create(args.get("first"), args.get("after"), ordering)
    except PublicError as error:
        raise Fallback(f"page arguments: {error.message}") from None
    values: dict[str, Any] = {"limit": request.limit}
    for index, value in enumerate(request.after or ()):
        values[f"after{index}"] = value
    return request.after is not None, values


def page(ordering: Ordering) -> Interpreter:
    def interpret(args: Mapping[str, Any]) -> Interpreted:
        has_after, values = page_values(args, ordering)
        return Interpreted(("page", has_after), values)

    return interpret


def member_number(args: Mapping[str, Any]) -> Interpreted:
    number = args["memberNumber"]
    if not isinstance(number, str) or not storable(number):
        raise Fallback("member number PostgreSQL cannot hold")
    return Interpreted((), {"memberNumber": number})


def node_id(row_types: frozenset[str]) -> Interpreter:
    """`node(id:)`: which row type the global id names (None: the answer is null)."""

    def interpret(args: Mapping[str, Any]) -> Interpreted:
        try:
            global_id = GlobalID.from_id(args["id"])
        except GlobalIDValueError:
            raise Fallback("not a global id") from None
        row_id = parse_row_id(global_id.node_id)
        if global_id.type_name not in row_types or row_id is None:
            return Interpreted(("node", None), {})
        return Interpreted(("node", global_id.type_name), {"id": row_id})

    return interpret
