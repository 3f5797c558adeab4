"""Guards root fields with the authorization policy: each root field is an action
(graphql_api/auth/matrix.py) and `policy.can` decides; the SDL prints the action's roles."""

from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from graphql_api.auth import policy
from graphql_api.graph.enums import Role


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="roles",
    description="The API-key roles that may use this field; any other role gets FORBIDDEN.",
)
class Roles:
    allowed: list[Role]


class ActionAllowed(BasePermission):
    message = "Your API key's role may not use this field."
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, action: policy.Action) -> None:
        self.action = action
        roles = policy.roles_for(action)
        self._roles_directive = Roles(allowed=[role for role in Role if role in roles])

    @property
    def schema_directive(self) -> object:
        """Printed in the SDL, so GraphiQL's docs and schema.graphql show who may call it."""
        return self._roles_directive

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return policy.can(getattr(info.context, "viewer", None), self.action)


def guard_root_fields(root: type, matrix: Mapping[str, policy.Action]) -> None:
    """Guard every field of a root type with its action; a field missing from `matrix` is
    a bug."""
    definition = get_object_definition(root, strict=True)
    names = set()
    for field in definition.fields:
        name = field.graphql_name or to_camel_case(field.python_name)
        names.add(name)
        if name not in matrix:
            raise RuntimeError(f"{definition.name}.{name} has no entry in the permission matrix")
        field.extensions.append(PermissionExtension(permissions=[ActionAllowed(matrix[name])]))
    stale = set(matrix) - names
    if stale:
        raise RuntimeError(f"permission matrix names unknown {definition.name} fields: {stale}")


# Masking (emails for AGENT keys) is declared on the field: graph/declare.py `masked`.
