"""What every compiled-reads module shares: the fallback signal and parameter references."""

from dataclasses import dataclass
from typing import Any


class Fallback(Exception):  # noqa: N818 (a routing signal, not an error)
    """This request goes to the resolver path (which answers it, errors included)."""


@dataclass(frozen=True)
class SlotValue:
    """A bound value taken from one argument slot's interpretation, per request."""

    slot: int
    name: str


@dataclass(frozen=True)
class ConstantValue:
    """A value fixed by the code (never by the request), bound rather than spliced."""

    value: Any


@dataclass(frozen=True)
class ViewerMember:
    """The member a MEMBER key belongs to: the scope of every row the statement reads."""


ParamRef = SlotValue | ConstantValue | ViewerMember
