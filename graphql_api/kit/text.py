"""What PostgreSQL can store and compare: text without NUL or unpaired surrogates, ids
within BIGINT, instants within `timestamptz`. Anything else can match no row, so lookups
treat it as not found instead of sending it to the database (where it would fail)."""

import re
from datetime import UTC, datetime

MAX_BIGINT = 2**63 - 1
_ROW_ID = re.compile(r"[1-9][0-9]{0,18}")  # ASCII digits only: other Unicode digits are no id
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def parse_row_id(text: str) -> int | None:
    """A positive BIGINT written in plain ASCII digits, else None."""
    if not _ROW_ID.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_BIGINT else None


def in_timestamptz_range(moment: datetime) -> bool:
    """Aware and representable in UTC (PostgreSQL rejects what Python cannot convert)."""
    if moment.tzinfo is None:
        return False
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True
