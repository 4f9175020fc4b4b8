"""Booking revisions, pure: webhook classification, ordering, room mapping, booked nights.

No I/O here; the services feed these functions with values read from the database and Channex.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

# channex-api.md §8.2: the booking events (the `booking` event covers all three kinds).
BOOKING_EVENTS = frozenset(
    {"booking", "booking_new", "booking_modification", "booking_cancellation"}
)
UNMAPPED_EVENTS = frozenset({"booking_unmapped_room", "booking_unmapped_rate"})
NON_ACKED_EVENT = "non_acked_booking"
# Channel events whose payload is {title, channel_id, ota_name} (§8.3, §9.2).
# A channel is created inactive (`new_channel`); "connected" means active (§9.2).
CHANNEL_UP_EVENTS = frozenset({"activate_channel"})
CHANNEL_DOWN_EVENTS = frozenset(
    {"deactivate_channel", "disconnect_channel", "disconnected_channel"}
)
# sync_error and channel_removal_warning feed the channel's state (app/domain/channel_state.py).
CHANNEL_EVENTS = (
    CHANNEL_UP_EVENTS
    | CHANNEL_DOWN_EVENTS
    | {
        "new_channel",
        "updated_channel",
        "sync_error",
        "channel_removal_warning",
    }
)
# Changes to ARI (§8.3): payload a list of cells; a trigger to re-read them (§6.7).
ARI_EVENT = "ari"
HANDLED_EVENTS = BOOKING_EVENTS | UNMAPPED_EVENTS | CHANNEL_EVENTS | {NON_ACKED_EVENT, ARI_EVENT}
# What channel-sync subscribes to (one global webhook, §8.1): `booking` rather than the three
# booking_* events, so that each revision is announced once.
SUBSCRIBED_EVENTS = (
    "booking",
    "non_acked_booking",
    "booking_unmapped_room",
    "booking_unmapped_rate",
    "new_channel",
    "updated_channel",
    "activate_channel",
    "deactivate_channel",
    "disconnect_channel",
    "sync_error",
    "channel_removal_warning",
    ARI_EVENT,
)
# Guest data in a webhook payload: non_acked_booking carries the customer's name (§7.4).
PERSONAL_PAYLOAD_KEYS = frozenset({"customer_name"})
# A webhook with more JSON objects and arrays than this is stored unparsed (malformed): parsing
# is bounded in the request. Channex's largest, a booking sent with its data, has hundreds; two
# million tiny objects in 16 MiB would cost the process over 400 MiB to parse.
MAX_WEBHOOK_CONTAINERS = 20_000
# Text columns refuse NUL on PostgreSQL: stored as U+FFFD, the mark of bytes not kept as sent.
NUL = "\x00"


@dataclass(frozen=True)
class ClassifiedEvent:
    """What the inbox stores for one webhook call."""

    dedup_key: str
    event: str
    status: str  # pending | ignored | malformed (EventStatus values)
    channex_property_id: str | None = None
    channex_revision_id: str | None = None
    note: str | None = None
    body: str = ""


def _digest(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _text(value: object) -> str | None:
    return value[:64] if isinstance(value, str) and value else None


def _parse(raw: bytes, text: str) -> tuple[object, str | None]:
    """The JSON value of a webhook body, or None and why not; never raises."""
    if raw.count(b"{") + raw.count(b"[") > MAX_WEBHOOK_CONTAINERS:
        return None, f"over {MAX_WEBHOOK_CONTAINERS} JSON objects and arrays, not parsed"
    try:
        return json.loads(text), None
    except RecursionError:  # nested deeper than the parser goes
        return None, "nested too deep"
    except ValueError:
        return None, "not JSON"


def classify_webhook(raw: bytes) -> ClassifiedEvent:
    """Name, dedup key and fate of a webhook body; never raises, whatever the bytes."""
    text = raw.decode("utf-8", errors="replace")
    parsed, why_not = _parse(raw, text)
    stored = text.replace(NUL, "\ufffd")
    if why_not is not None:
        return ClassifiedEvent(_digest(raw), "", "malformed", note=why_not, body=stored)
    if not isinstance(parsed, dict) or not isinstance(parsed.get("event"), str):
        return ClassifiedEvent(
            _digest(raw), "", "malformed", note="not a Channex event", body=stored
        )
    if _has_nul(parsed):
        return ClassifiedEvent(_digest(raw), "", "malformed", note="NUL in an id", body=stored)
    event = parsed["event"][:64]
    found = parsed.get("payload")
    payload: dict[str, Any] = found if isinstance(found, dict) else {}
    property_id = _text(parsed.get("property_id")) or _text(payload.get("property_id"))
    revision_id = _text(payload.get("revision_id")) or _text(payload.get("booking_revision_id"))
    body = _redacted(parsed, payload, stored)
    if event in BOOKING_EVENTS and revision_id:
        return ClassifiedEvent(
            f"revision:{revision_id}", event, "pending", property_id, revision_id, body=body
        )
    if event in BOOKING_EVENTS:
        # Channex's "send test message" posts a wrapper without a revision (§8.3).
        return ClassifiedEvent(
            _digest(raw), event, "ignored", property_id, note="no revision id", body=body
        )
    if event in HANDLED_EVENTS:
        return ClassifiedEvent(_digest(raw), event, "pending", property_id, revision_id, body=body)
    return ClassifiedEvent(
        _digest(raw), event, "ignored", property_id, note="event not handled", body=body
    )


def _has_nul(parsed: dict[str, Any]) -> bool:
    """Whether a field stored in a column of its own holds NUL (PostgreSQL refuses it)."""
    payload = parsed.get("payload")
    fields = [parsed.get("event"), parsed.get("property_id")]
    if isinstance(payload, dict):
        keys = ("property_id", "revision_id", "booking_revision_id")
        fields += [payload.get(key) for key in keys]
    return any(isinstance(value, str) and NUL in value for value in fields)


def _redacted(parsed: dict[str, Any], payload: dict[str, Any], text: str) -> str:
    """The body as received, minus guest data (which is never stored in clear)."""
    if not PERSONAL_PAYLOAD_KEYS & payload.keys():
        return text
    clean = {k: ("[redacted]" if k in PERSONAL_PAYLOAD_KEYS else v) for k, v in payload.items()}
    return json.dumps({**parsed, "payload": clean})


def parse_instant(value: object) -> datetime:
    """Channex's `inserted_at` (naive ISO = UTC) as an aware datetime; unknown sorts first."""
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.min.replace(tzinfo=UTC)


def is_newer(
    inserted_at: datetime, revision_id: str, current_at: datetime | None, current_id: str | None
) -> bool:
    """True when a revision should become the booking's state: later `inserted_at` wins, the
    revision id breaks ties so that every process picks the same winner."""
    if current_at is None or current_id is None:
        return True
    return (inserted_at, revision_id) > (current_at, current_id)


@dataclass(frozen=True)
class RoomMapping:
    """Channex → PMS ids of one property."""

    room_types: Mapping[str, str] = field(default_factory=dict)
    rate_plans: Mapping[str, str] = field(default_factory=dict)


def map_rooms(
    rooms: list[dict[str, Any]], mapping: RoomMapping
) -> tuple[list[dict[str, Any]], set[str]]:
    """Rooms with `pms_room_type_id` / `pms_rate_plan_id` added; flags for what has no mapping."""
    flags: set[str] = set()
    mapped = []
    for room in rooms:
        room_type = mapping.room_types.get(str(room.get("room_type_id")))
        rate_plan = mapping.rate_plans.get(str(room.get("rate_plan_id")))
        if room_type is None:
            flags.add("unmapped_room_type")
        if rate_plan is None:
            flags.add("unmapped_rate_plan")
        mapped.append({**room, "pms_room_type_id": room_type, "pms_rate_plan_id": rate_plan})
    return mapped, flags


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def room_nights(rooms: list[dict[str, Any]]) -> Counter[tuple[str, date]]:
    """How many rooms not cancelled each (Channex room type id, night) holds: check-in to
    check-out - 1."""
    nights: Counter[tuple[str, date]] = Counter()
    for room in rooms:
        first, last = _day(room.get("checkin_date")), _day(room.get("checkout_date"))
        if (
            room.get("is_cancelled")
            or first is None
            or last is None
            or not room.get("room_type_id")
        ):
            continue
        day = first
        while day < last:
            nights[(str(room["room_type_id"]), day)] += 1
            day += timedelta(days=1)
    return nights


def booked_nights(rooms: list[dict[str, Any]]) -> set[tuple[str, date]]:
    """(Channex room type id, night) for every room not cancelled: check-in to check-out - 1."""
    return set(room_nights(rooms))


def nights_to_check(
    status: str,
    rooms: list[dict[str, Any]],
    previous_status: str | None,
    previous_rooms: list[dict[str, Any]],
) -> set[tuple[str, date]]:
    """(Channex room type id, night) pairs an overbooking check covers: all of a new booking's,
    only the room-nights a modification adds to the booking's applied revision (the PMS's
    availability already counts the others), none of a cancellation's (it frees rooms)."""
    if status == "cancelled":
        return set()
    # A booking reinstated after a cancellation, or whose earlier revisions we never applied,
    # holds none of its rooms in the PMS's eyes yet.
    if status == "new" or previous_status is None or previous_status == "cancelled":
        return booked_nights(rooms)
    before = room_nights(previous_rooms)
    return {key for key, count in room_nights(rooms).items() if count > before[key]}
