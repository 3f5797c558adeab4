"""Guards root fields with the permission matrix (graphql_api/auth/matrix.py)."""

from typing import Any

from strawberry import Info
from strawberry.extensions.field_extension import FieldExtension, SyncExtensionResolver
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from graphql_api.kit.formats import mask_email  # paired with its SQL form there
from graphql_api.models import Role


class RoleAllowed(BasePermission):
    message = "Your API key's role may not use this field."
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

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


class MaskEmailForAgents(FieldExtension):
    """AGENT keys read member context but never a usable email address."""

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        value = next_(source, info, **kwargs)
        viewer = getattr(info.context, "viewer", None)
        return mask_email(value) if viewer is not None and viewer.role is Role.AGENT else value
