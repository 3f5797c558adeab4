"""Guards root fields with the permission matrix (graphql_api/auth/matrix.py)."""

from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from graphql_api.graph.enums import Role


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="roles",
    description="The API-key roles that may use this field; any other role gets FORBIDDEN.",
)
class Roles:
    allowed: list[Role]


class RoleAllowed(BasePermission):
    message = "Your API key's role may not use this field."
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles
        self._roles_directive = Roles(allowed=[role for role in Role if role in roles])

    @property
    def schema_directive(self) -> object:
        """Printed in the SDL, so GraphiQL's docs and schema.graphql show who may call it."""
        return self._roles_directive

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        viewer = getattr(info.context, "viewer", None)
        return viewer is not None and viewer.role in self.roles


def guard_root_fields(root: type, matrix: dict[str, frozenset[Role]]) -> None:
    """Attach the matrix to every field of a root type; a field missing from it is a bug."""
    definition = get_object_definition(root, strict=True)
    names = set()
    for field in definition.fields:
        name = field.graphql_name or to_camel_case(field.python_name)
        names.add(name)
        if name not in matrix:
            raise RuntimeError(f"{definition.name}.{name} has no entry in the permission matrix")
        field.extensions.append(PermissionExtension(permissions=[RoleAllowed(matrix[name])]))
    stale = set(matrix) - names
    if stale:
        raise RuntimeError(f"permission matrix names unknown {definition.name} fields: {stale}")


# Masking (emails for AGENT keys) is declared on the field: graph/declare.py `masked`.
