"""Reading many ARI cells at once: each distinct JSON document and date decoded once per read.

A full sync reads a property's 20,000 cells three times per request (to plan it, to forget the
fields in flight, to record the answer). Their documents repeat (a season's price on many
dates, the same availability across dates), and their 500 dates repeat across entities, so
decoding each distinct text once beats running the column types' processors on every row
(SQLite keeps dates as text and SQLAlchemy parses each with a regular expression).

What `RowDecoder` returns is shared between the rows of one read: callers must not mutate it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Text, cast, type_coerce

from app.db import json_loads
from app.models import AriCell

# The JSON columns as their text, cast in SQL (PostgreSQL's driver would decode them itself),
# and the date without the type's processing (ISO text on SQLite, a date from asyncpg).
RAW_DESIRED = cast(AriCell.desired, Text)
RAW_PUSHED = cast(AriCell.pushed, Text)
RAW_STAY_DATE = type_coerce(AriCell.stay_date, Text)


class RowDecoder:
    """Decodes the raw columns above, memoised by their text for the life of one read."""

    def __init__(self) -> None:
        self._documents: dict[Any, Any] = {}
        self._dates: dict[Any, date] = {}

    def document(self, raw: Any) -> Any:
        """A JSON column's value from its text (or as a driver decoded it already)."""
        if not isinstance(raw, str | bytes):
            return raw
        if (value := self._documents.get(raw)) is None:
            value = self._documents[raw] = json_loads(raw)
        return value

    def day(self, raw: Any) -> date:
        """A DATE column's value: ISO text on SQLite, a date from PostgreSQL's driver."""
        if isinstance(raw, date):
            return raw
        if (value := self._dates.get(raw)) is None:
            value = self._dates[raw] = date.fromisoformat(raw)
        return value
