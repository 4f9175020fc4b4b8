"""The life of an OTA booking in Channex: new, modified, cancelled revisions (channex-api.md §7)."""

from __future__ import annotations

from typing import Any

from app.sandbox.errors import not_found, validation_error
from app.sandbox.ota import (
    OtaBooking,
    OtaModification,
    add_revision,
    build_attributes,
    check_booking,
    take_rooms,
)
from app.sandbox.state import Booking, Channel, Revision, SandboxState, new_id


def _setting(state: SandboxState, property_id: str, name: str) -> bool:
    return bool(state.store.properties[property_id].attrs["settings"].get(name, False))


def _move_rooms(state: SandboxState, request: OtaBooking, delta: int) -> None:
    take_rooms(state, request.room_type_id, request.arrival_date, request.departure_date, delta)


def _open(
    state: SandboxState, property_id: str, request: OtaBooking, code: str, channel_id: str | None
) -> Revision:
    """A new booking; Channex takes its rooms from availability on confirmation (§3)."""
    booking = Booking(new_id(), property_id, channel_id, source=request.model_dump(mode="json"))
    state.store.bookings[booking.id] = booking
    _move_rooms(state, request, -1)
    return add_revision(state, booking, "new", build_attributes(state, property_id, request, code))


def create_booking(state: SandboxState, property_id: str, request: OtaBooking) -> Revision | str:
    """Book at the OTA: a `new` revision, or (not delivered) a reservation code kept for later."""
    if property_id not in state.store.properties:
        raise not_found()
    channel = check_booking(state, property_id, request)
    code = "".join(state.rng.choices("0123456789", k=10))
    if not request.deliver:
        pending = {"property_id": property_id, "code": code, **request.model_dump(mode="json")}
        state.store.future_reservations.setdefault(channel.id, []).append(pending)
        return code
    return _open(state, property_id, request, code, channel.id)


def get_booking(state: SandboxState, booking_id: str) -> Booking:
    booking = state.store.bookings.get(booking_id)
    if booking is None:
        raise not_found()
    return booking


def latest(state: SandboxState, booking: Booking) -> Revision:
    return state.store.revisions[booking.revision_ids[-1]]


def modify_booking(state: SandboxState, booking_id: str, changes: OtaModification) -> Revision:
    """A `modified` revision: a full snapshot of the booking after the changes."""
    booking = get_booking(state, booking_id)
    current = latest(state, booking)
    if current.attrs["status"] == "cancelled":
        raise validation_error({"booking": ["is cancelled"]})
    old = OtaBooking.model_validate(booking.source)
    new = OtaBooking.model_validate(
        {**booking.source, **changes.model_dump(mode="json", exclude_none=True)}
    )
    check_booking(state, booking.property_id, new.model_copy(update={"deliver": False}))
    if _setting(state, booking.property_id, "allow_availability_autoupdate_on_modification"):
        _move_rooms(state, old, +1)
        _move_rooms(state, new, -1)
    booking.source = new.model_dump(mode="json")
    attrs = build_attributes(state, booking.property_id, new, current.attrs["ota_reservation_code"])
    return add_revision(state, booking, "modified", attrs)


def cancel_booking(state: SandboxState, booking_id: str) -> Revision:
    """A `cancelled` revision; its rooms are flagged cancelled."""
    booking = get_booking(state, booking_id)
    current = latest(state, booking)
    if current.attrs["status"] == "cancelled":
        raise validation_error({"booking": ["is cancelled"]})
    request = OtaBooking.model_validate(booking.source)
    if _setting(state, booking.property_id, "allow_availability_autoupdate_on_cancellation"):
        _move_rooms(state, request, +1)
    attrs: dict[str, Any] = {k: v for k, v in current.attrs.items() if k not in {"status"}}
    attrs["rooms"] = [{**room, "is_cancelled": True} for room in attrs["rooms"]]
    return add_revision(state, booking, "cancelled", attrs)


def load_future_reservations(state: SandboxState, channel: Channel) -> int:
    """Deliver the reservations made at the OTA before the connection, if still in the future."""
    pending = state.store.future_reservations.pop(channel.id, [])
    today = state.today()
    count = 0
    for reservation in pending:
        request = OtaBooking.model_validate(
            {k: v for k, v in reservation.items() if k not in {"property_id", "code"}}
        )
        if (
            request.departure_date <= today
            or reservation["property_id"] not in channel.property_ids
        ):
            continue
        _open(
            state,
            reservation["property_id"],
            request.model_copy(update={"deliver": True}),
            reservation["code"],
            channel.id,
        )
        count += 1
    return count
