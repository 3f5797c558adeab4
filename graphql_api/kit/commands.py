"""What every write command knows about its caller, and input validation via pydantic."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from graphql_api.auth.service import Viewer
from graphql_api.kit.errors import CommandRefusedError, ErrorCode, Problem

ModelT = TypeVar("ModelT", bound="CommandInput")


@dataclass(frozen=True)
class RequestMeta:
    """Who asked and in which request. Services check `viewer` against the authorization
    policy (graphql_api/auth/policy.py) whatever the transport; audit rows carry `actor`."""

    request_id: str
    # The authenticated caller; None only where no authentication runs (and then the policy
    # refuses every command).
    viewer: Viewer | None

    @property
    def actor(self) -> str:
        """Stamped on audit rows."""
        return self.viewer.actor if self.viewer is not None else "anonymous"


class CommandInput(BaseModel):
    """Base for service inputs: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)

    @classmethod
    def parse(cls: type[ModelT], data: dict[str, Any]) -> ModelT:
        """Validate, turning every pydantic error into an INVALID_INPUT problem."""
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise CommandRefusedError(*_problems(error)) from None

    def fingerprint(self, operation: str) -> str:
        """A stable hash of operation + input, to tell a retry from a different request."""
        canonical = json.dumps(
            [operation, self.model_dump(mode="json", exclude={"idempotency_key"})],
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _problems(error: ValidationError) -> list[Problem]:
    return [
        Problem(
            ErrorCode.INVALID_INPUT,
            detail["msg"],
            tuple(str(part) for part in detail["loc"]),
        )
        for detail in error.errors(include_url=False, include_input=False)
    ]
