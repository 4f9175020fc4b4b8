"""OTA simulator: bookings as Channex produces them from Booking.com, Expedia or Airbnb (§7.1)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.sandbox.delivery import fire_event
from app.sandbox.errors import validation_error
from app.sandbox.money import format_rate
from app.sandbox.state import Booking, Channel, Revision, SandboxState, new_id

ChannelCode = Literal["BookingCom", "Expedia", "AirBNB"]
# Adapter code → (short code for unique_id, ota_name, who collects payment) — §7.1, §9.3.
OTAS: dict[str, tuple[str, str, str]] = {
    "BookingCom": ("BDC", "Booking.com", "property"),
    "Expedia": ("EXP", "Expedia", "ota"),
    "AirBNB": ("ABB", "Airbnb", "ota"),
}
EVENTS = {
    "new": "booking_new",
    "modified": "booking_modification",
    "cancelled": "booking_cancellation",
}


class Guest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "John"
    surname: str = "Doe"
    mail: str = "guest@example.com"
    phone: str = "+441234567890"
    country: str = "GB"
    language: str = "en"


class OtaBooking(BaseModel):
    """What the simulator needs to make a booking; the rest is filled as an OTA would."""

    model_config = ConfigDict(extra="forbid")

    channel: ChannelCode
    room_type_id: str
    rate_plan_id: str
    arrival_date: date
    departure_date: date
    adults: int = Field(default=2, ge=1)
    children: int = Field(default=0, ge=0)
    guest: Guest = Field(default_factory=Guest)
    notes: str | None = None
    # False: the reservation exists at the OTA but reaches Channex only through the
    # channel's `load_future_reservations` action.
    deliver: bool = True


class OtaModification(BaseModel):
    """Changes of a booking; whatever is not given stays as it was."""

    model_config = ConfigDict(extra="forbid")

    room_type_id: str | None = None
    rate_plan_id: str | None = None
    arrival_date: date | None = None
    departure_date: date | None = None
    adults: int | None = Field(default=None, ge=1)
    children: int | None = Field(default=None, ge=0)
    guest: Guest | None = None
    notes: str | None = None


def _nightly_prices(state: SandboxState, request: OtaBooking) -> dict[str, str]:
    """The price of each night: the rate last pushed for that date, else the plan's default."""
    plan = state.store.rate_plans[request.rate_plan_id]
    primary = next((o for o in plan.attrs["options"] if o["is_primary"]), plan.attrs["options"][0])
    cells = state.store.restrictions.get(plan.id, {})
    nights = (request.departure_date - request.arrival_date).days
    days = [request.arrival_date + timedelta(days=n) for n in range(nights)]
    return {d.isoformat(): str(cells.get(d, {}).get("rate", primary["rate"])) for d in days}


def check_booking(state: SandboxState, property_id: str, request: OtaBooking) -> Channel:
    """422 for what no OTA would send; else the property's channel for that OTA."""
    errors: dict[str, list[str]] = {}
    room = state.store.room_types.get(request.room_type_id)
    plan = state.store.rate_plans.get(request.rate_plan_id)
    if room is None or room.property_id != property_id:
        errors["room_type_id"] = ["is invalid"]
    if plan is None or plan.room_type_id != request.room_type_id:
        errors["rate_plan_id"] = ["is invalid"]
    if request.departure_date <= request.arrival_date:
        errors["departure_date"] = ["must be after arrival_date"]
    channel = next(
        (
            c
            for c in state.store.channels.values()
            if property_id in c.property_ids and c.attrs["channel"] == request.channel
        ),
        None,
    )
    if channel is None or (request.deliver and not channel.attrs["is_active"]):
        errors["channel"] = ["is not connected to this property"]
    if errors or channel is None:
        raise validation_error(errors)
    return channel


def _room(request: OtaBooking, days: dict[str, str], amount: str) -> dict[str, Any]:
    """The booked room with its price per night (`days`)."""
    occupancy: dict[str, Any] = {"adults": request.adults, "children": request.children}
    occupancy["infants"] = 0
    if request.children:
        occupancy["ages"] = [8] * request.children
    return {
        "booking_room_id": new_id(),
        "checkin_date": request.arrival_date.isoformat(),
        "checkout_date": request.departure_date.isoformat(),
        "room_type_id": request.room_type_id,
        "rate_plan_id": request.rate_plan_id,
        "occupancy": occupancy,
        "guests": [{"name": request.guest.name, "surname": request.guest.surname}],
        "services": [],
        "taxes": [],
        "amount": amount,
        "days": days,
        "meta": {},
        "is_cancelled": False,
    }


def build_attributes(
    state: SandboxState, property_id: str, request: OtaBooking, reservation_code: str
) -> dict[str, Any]:
    """Revision attributes in Channex's shape (booking id, status and ids are added later)."""
    short, ota_name, collect = OTAS[request.channel]
    days = _nightly_prices(state, request)
    amount = format_rate(sum((Decimal(p) for p in days.values()), Decimal(0)))
    guest = request.guest
    return {
        "property_id": property_id,
        "unique_id": f"{short}-{reservation_code}",
        "ota_reservation_code": reservation_code,
        "ota_name": ota_name,
        "rooms": [_room(request, days, amount)],
        "services": [],
        "guarantee": _guarantee(guest) if collect == "property" else None,
        "customer": {**guest.model_dump(), "address": "", "city": "", "zip": "", "meta": {}},
        "occupancy": {"adults": request.adults, "children": request.children, "infants": 0},
        "arrival_date": request.arrival_date.isoformat(),
        "departure_date": request.departure_date.isoformat(),
        "arrival_hour": "14:00",
        "amount": amount,
        "currency": state.store.properties[property_id].attrs["currency"],
        "notes": request.notes,
        "payment_collect": collect,
        "payment_type": "credit_card" if collect == "property" else "bank_transfer",
        "ota_commission": format_rate(Decimal(amount) * Decimal("0.15")),
    }


def _guarantee(guest: Guest) -> dict[str, Any]:
    """A masked test card, as served on non-PCI hosts (§7.1)."""
    return {
        "card_number": "411111******1111",
        "card_type": "VI",
        "cardholder_name": f"{guest.name} {guest.surname}",
        "cvv": "***",
        "expiration_date": "12/2030",
        "is_virtual": False,
        "meta": {},
    }


def add_revision(
    state: SandboxState, booking: Booking, status: str, attrs: dict[str, Any]
) -> Revision:
    """Store a revision snapshot, fire the booking webhooks, arm the non-ack alarm."""
    revision = Revision(new_id(), booking.id, booking.property_id, {}, datetime.now(UTC))
    revision.attrs = {
        **attrs,
        "booking_id": booking.id,
        "status": status,
        "system_id": new_id(),
        "channel_id": booking.channel_id,
        "inserted_at": revision.inserted_at.isoformat().replace("+00:00", "Z"),
    }
    state.store.revisions[revision.id] = revision
    booking.revision_ids.append(revision.id)
    payload = {
        "booking_id": booking.id,
        "property_id": booking.property_id,
        "revision_id": revision.id,
    }
    fire_event(state, ("booking", EVENTS[status]), booking.property_id, payload)
    state.spawn(_alarm_if_not_acked(state, revision))
    return revision


async def _alarm_if_not_acked(state: SandboxState, revision: Revision) -> None:
    """Raise `non_acked_booking` when a revision is still unacknowledged after 30 min (§7.4)."""
    store = state.store
    await asyncio.sleep(state.scaled(state.config.non_acked_after_seconds))
    if state.store is not store or revision.acked:
        return
    attrs = revision.attrs
    customer = attrs.get("customer", {})
    payload = {
        "booking_id": revision.booking_id,
        "revision_id": revision.id,
        "unique_id": attrs.get("unique_id"),
        "amount": attrs.get("amount"),
        "currency": attrs.get("currency"),
        "arrival_date": attrs.get("arrival_date"),
        "count_of_rooms": len(attrs.get("rooms", [])),
        "count_of_nights": _nights(attrs),
        "customer_name": f"{customer.get('name', '')} {customer.get('surname', '')}".strip(),
        "ota_name": attrs.get("ota_name"),
    }
    fire_event(state, ("non_acked_booking",), revision.property_id, payload)


def _nights(attrs: dict[str, Any]) -> int:
    arrival, departure = attrs.get("arrival_date"), attrs.get("departure_date")
    if not (arrival and departure):
        return 0
    return (date.fromisoformat(departure) - date.fromisoformat(arrival)).days


def take_rooms(state: SandboxState, room_type_id: str, first: date, last: date, delta: int) -> None:
    """Change availability over the nights first..last-1, never below 0."""
    cells = state.store.availability.setdefault(room_type_id, {})
    day = first
    while day < last:
        cells[day] = max(0, cells.get(day, 0) + delta)
        day += timedelta(days=1)
