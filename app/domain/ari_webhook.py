"""Channex's `ari` webhook, pure: whose change it is, and which dates it names.

The event is a trigger to re-read, never state (channex-api.md §6.7: deliveries arrive out of
order), so all we take from it is the span of dates to check and who made the change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class AriSpan:
    """The dates an `ari` event names, to check against what we pushed."""

    date_from: date
    date_to: date


@dataclass(frozen=True)
class Skip:
    """Nothing to check; `malformed` when the body cannot be read, else why it is skipped."""

    note: str
    malformed: bool = False


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _days(cell: object) -> list[date]:
    """A cell's `date`, or its `date_from`/`date_to` (both forms are Channex value shapes)."""
    if not isinstance(cell, dict):
        return []
    found = [_day(cell.get(key)) for key in ("date", "date_from", "date_to")]
    return [day for day in found if day is not None]


def ari_span(body: str, own_user_id: str | None) -> AriSpan | Skip:
    """The span to check for an `ari` event body, or why there is none.

    user_id is the actor (§8.3): ours → our own push, nothing to check; null → Channex itself
    or an OTA, i.e. a booking lowering availability, which the booking flow holds (ari_holds)
    and which a repair racing that booking must not undo. Any other user changed it inside
    Channex. Without our own id configured every user's event is checked: our own pushes then
    cost a check each, which the per-property coalescing bounds.
    """
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        return Skip("not JSON", malformed=True)
    if not isinstance(parsed, dict):
        return Skip("not an object", malformed=True)
    actor = parsed.get("user_id")
    if actor is None:
        return Skip("system or OTA change (bookings are held by the booking flow)")
    if own_user_id is not None and str(actor) == own_user_id:
        return Skip("our own change")
    cells = parsed.get("payload")
    days = [day for cell in cells for day in _days(cell)] if isinstance(cells, list) else []
    if not days:
        return Skip("no dated cells in the payload", malformed=True)
    return AriSpan(min(days), max(days))


def widen(current: tuple[date | None, date | None], span: AriSpan) -> tuple[date, date]:
    """The pending span after another event: the smallest span covering both."""
    lo, hi = current
    return (
        span.date_from if lo is None else min(lo, span.date_from),
        span.date_to if hi is None else max(hi, span.date_to),
    )
