"""When a property's nightly ARI work is due: off-peak in its own timezone, spread (pure)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# After Channex's 02:00 day roll (channex-api.md §6.5) and before the morning's changes.
OFF_PEAK_START = time(3)
# Properties are spread over this many minutes from OFF_PEAK_START, by a per-property offset.
SPREAD_MINUTES = 180
# A slot missed by more than this (the service was down) waits for the next night.
WINDOW = timedelta(hours=1)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def nightly_slot(now: datetime, timezone: str, property_pk: int) -> datetime:
    """The property's most recent slot at or before `now` (aware): 03:00 local plus its offset."""
    zone = _zone(timezone)
    local = now.astimezone(zone)
    # A multiplicative hash, so that consecutive ids land far apart in the window.
    offset = timedelta(minutes=(property_pk * 2_654_435_761) % (2**32) % SPREAD_MINUTES)
    slot = datetime.combine(local.date(), OFF_PEAK_START, tzinfo=zone) + offset
    if slot > local:
        slot = datetime.combine(local.date() - timedelta(days=1), OFF_PEAK_START, tzinfo=zone)
        slot += offset
    return slot


def nightly_due(now: datetime, timezone: str, property_pk: int, last: datetime | None) -> bool:
    """True inside the property's slot window if the work has not run since the slot began:
    at most once a day, and never at peak hours."""
    slot = nightly_slot(now, timezone, property_pk)
    in_window = slot <= now < slot + WINDOW
    return in_window and (last is None or last < slot)
