"""The provider's member document: an exact, validated parse into `UpstreamMember`."""

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from graphql_api.models.column_types import MONEY_PRECISION, MONEY_SCALE
from graphql_api.models.enums import MemberStatus
from graphql_api.upstream.errors import UpstreamBadResponse

# The provider speaks lowercase words; our enum values are uppercase names.
_STATUS_BY_WORD = {status.value.lower(): status for status in MemberStatus}
# Same bounds as the members table, so a parsed member always fits the database.
_MAX_MEMBER_NUMBER = 32
_MAX_FULL_NAME = 200
# contribution_balance lands in NUMERIC(16, 2): anything at or beyond 10^14 cannot be stored.
_MAX_BALANCE = Decimal(10) ** (MONEY_PRECISION - MONEY_SCALE)
_CENT = Decimal("0.01")
# A balance sent as a string must be a plain decimal: Decimal() alone would also take
# " 1_000 ", "NaN" or "1e3", which are not amounts anyone meant to send.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DEFAULT_CURRENCY = "USD"


@dataclass(frozen=True, slots=True)
class UpstreamMember:
    """One member as the pension provider reports it."""

    member_number: str
    full_name: str
    status: MemberStatus
    contribution_balance: Decimal
    currency: str


def _bad(reason: str) -> NoReturn:
    raise UpstreamBadResponse(f"pension provider response: {reason}", status_code=200)


def _reject_constant(name: str) -> NoReturn:
    # json.loads calls this for the non-standard literals NaN, Infinity and -Infinity.
    _bad(f"non-finite number {name} in body")


def _load_json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except UpstreamBadResponse:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError):
        # ValueError covers JSONDecodeError and integers beyond the int-digits limit.
        _bad("body is not valid JSON")
    if not isinstance(document, dict):
        _bad("body is not a JSON object")
    return document


def _text(document: dict[str, Any], field: str, max_length: int) -> str:
    value = document.get(field)
    if not isinstance(value, str) or not value.strip():
        _bad(f"{field} must be a non-empty string")
    if len(value) > max_length:
        _bad(f"{field} is longer than {max_length} characters")
    return value


def _status(document: dict[str, Any]) -> MemberStatus:
    value = document.get("status")
    status = _STATUS_BY_WORD.get(value.lower()) if isinstance(value, str) else None
    if status is None:
        _bad("status is not a known member status")
    return status


def _balance(document: dict[str, Any]) -> Decimal:
    value = document.get("contribution_balance")
    # bool is an int subclass: `true` must not become a balance of 1.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        _bad("contribution_balance must be a number or a decimal string")
    if isinstance(value, str) and not _PLAIN_DECIMAL.fullmatch(value):
        _bad("contribution_balance is not a plain decimal string")
    try:
        balance = Decimal(value)
    except (InvalidOperation, ValueError):
        _bad("contribution_balance is not a decimal")
    return _checked_balance(balance)


def _checked_balance(balance: Decimal) -> Decimal:
    if not balance.is_finite():
        _bad("contribution_balance is not finite")
    if balance < 0:
        _bad("contribution_balance is negative")
    exponent = balance.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_SCALE:
        _bad(f"contribution_balance has more than {MONEY_SCALE} decimal places")
    if balance >= _MAX_BALANCE:
        _bad("contribution_balance is implausibly large")
    # abs() turns a "-0" into 0; quantize gives every balance the same two-place form.
    return abs(balance).quantize(_CENT)


def _currency(document: dict[str, Any]) -> str:
    value = document.get("currency")
    if value is None:
        return _DEFAULT_CURRENCY
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        _bad("currency must be a three-letter ISO 4217 code")
    return value


def parse_member(body: bytes, expected_member_number: str) -> UpstreamMember:
    """Parse and validate a `GET /members/{n}` body; raise `UpstreamBadResponse` if it is off.

    Numbers are parsed straight into Decimal (never via float) so the balance stays exact.
    """
    document = _load_json(body)
    member_number = _text(document, "member_number", _MAX_MEMBER_NUMBER)
    if member_number != expected_member_number:
        _bad("member_number does not match the member asked for")
    return UpstreamMember(
        member_number=member_number,
        full_name=_text(document, "full_name", _MAX_FULL_NAME),
        status=_status(document),
        contribution_balance=_balance(document),
        currency=_currency(document),
    )
