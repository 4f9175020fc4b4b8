"""Examples of what the PMS receives: one Booking.com booking, new, then modified, then
cancelled (two nights in EUR, one room, one guest). tests/api/test_revision_schema.py checks
each against the schema and the models."""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue

BOOKING_ID = "7c1f2b2e-4a1d-4e0b-9a57-2f6f3c9d8e01"
CHANNEX_PROPERTY_ID = "0b4e3a0c-6b8e-4b61-8f0f-3d2c5e7a9b10"


def _room(amount: str, days: dict[str, str], adults: int) -> dict[str, Any]:
    return {
        "booking_room_id": "e2b0d7a4-1c3f-4e59-b2a8-5d6c7e8f9a01",
        "checkin_date": "2031-06-12",
        "checkout_date": "2031-06-14",
        "room_type_id": "5a0c8d1e-2f3b-4c4d-9e5f-6a7b8c9d0e11",
        "rate_plan_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b12",
        "pms_room_type_id": "DBL",
        "pms_rate_plan_id": "BAR",
        "occupancy": {"adults": adults, "children": 0, "infants": 0},
        "guests": [{"name": "Ada", "surname": "Lovelace"}],
        "services": [],
        "taxes": [
            {"name": "City tax", "type": "city_tax", "is_inclusive": False, "total_price": "6.00"}
        ],
        "amount": amount,
        "days": days,
        "meta": {},
        "ota_unique_id": "5234567890",
        "is_cancelled": False,
    }


def _attributes(revision_id: str, status: str, inserted_at: str) -> dict[str, Any]:
    return {
        "id": revision_id,
        "booking_id": BOOKING_ID,
        "property_id": CHANNEX_PROPERTY_ID,
        "status": status,
        "unique_id": "BDC-4705181345",
        "system_id": "f0e1d2c3-b4a5-4968-8776-655443322110",
        "ota_reservation_code": "4705181345",
        "ota_name": "Booking.com",
        "channel_id": "3c2b1a09-8f7e-4d6c-9b5a-4a3b2c1d0e13",
        "inserted_at": inserted_at,
        "arrival_date": "2031-06-12",
        "departure_date": "2031-06-14",
        "arrival_hour": "15:00",
        "amount": "220.00",
        "currency": "EUR",
        "ota_commission": "33.00",
        "payment_collect": "property",
        "payment_type": "credit_card",
        "occupancy": {"adults": 1, "children": 0, "infants": 0},
        "rooms": [_room("220.00", {"2031-06-12": "110.00", "2031-06-13": "110.00"}, 1)],
        "services": [],
        "customer": {
            "name": "Ada",
            "surname": "Lovelace",
            "mail": "ada.lovelace@guest.booking.com",
            "phone": "+44 20 7946 0958",
            "address": "12 St James's Square",
            "city": "London",
            "zip": "SW1Y 4JH",
            "country": "GB",
            "language": "en",
            "company": None,
            "meta": {},
        },
        "guarantee": {
            "card_number": "411111******1111",
            "card_type": "VI",
            "cardholder_name": "Ada Lovelace",
            "cvv": "***",
            "expiration_date": "09/2033",
            "is_virtual": False,
            "meta": {},
        },
        "notes": "Late arrival, around 22:00. Quiet room if possible.",
    }


def _read(data: dict[str, Any], sequence: int, acked_at: str) -> dict[str, Any]:
    return {
        "id": data["id"],
        "booking_id": BOOKING_ID,
        "property_id": "hotel-lisbon-01",
        "organization_id": "org-1",
        "channex_property_id": CHANNEX_PROPERTY_ID,
        "status": data["status"],
        "sequence": sequence,
        "inserted_at": data["inserted_at"] + "Z",
        "flags": [],
        "acked_at": acked_at,
        "pulled_at": None,
        "personal_data_erased": False,
        "revision": data,
    }


def _new() -> dict[str, Any]:
    revision_id = "a1b2c3d4-0001-4e5f-8a9b-0c1d2e3f4a51"
    data = _attributes(revision_id, "new", "2031-05-02T09:14:03.412581")
    return _read(data, 1, "2031-05-02T09:14:04.118203Z")


def _modified() -> dict[str, Any]:
    """A second adult, and breakfast raises the nightly price."""
    revision_id = "a1b2c3d4-0002-4e5f-8a9b-0c1d2e3f4a52"
    data = _attributes(revision_id, "modified", "2031-05-20T17:41:55.090312")
    days = {"2031-06-12": "130.00", "2031-06-13": "130.00"}
    room = _room("260.00", days, 2)
    room["guests"] = [{"name": "Ada", "surname": "Lovelace"}, {"name": "Charles", "surname": None}]
    data.update(amount="260.00", ota_commission="39.00", rooms=[room], notes=None)
    data["occupancy"] = {"adults": 2, "children": 0, "infants": 0}
    return _read(data, 2, "2031-05-20T17:41:56.502177Z")


def _cancelled() -> dict[str, Any]:
    """The cancellation: still a full snapshot, the room marked cancelled, nothing to pay."""
    revision_id = "a1b2c3d4-0003-4e5f-8a9b-0c1d2e3f4a53"
    data = _attributes(revision_id, "cancelled", "2031-06-01T08:03:27.774120")
    room = _room("0.00", {"2031-06-12": "0.00", "2031-06-13": "0.00"}, 2)
    room.update(is_cancelled=True, taxes=[])
    data.update(amount="0.00", ota_commission="0.00", rooms=[room], notes=None)
    data["occupancy"] = {"adults": 2, "children": 0, "infants": 0}
    return _read(data, 3, "2031-06-01T08:03:28.235904Z")


READS = [_new(), _modified(), _cancelled()]
# Typed as pydantic's `json_schema_extra` wants them.
REVISION_EXAMPLES: list[JsonValue] = list(READS)
# A page of the pull feed with the three, the last page (no next_cursor).
FEED_EXAMPLES: list[JsonValue] = [
    {"items": list(READS), "next_cursor": None, "resume_after": "MTI3"},
]
# The booking after its cancellation: its newest revision's state, and its history.
BOOKING_EXAMPLES: list[JsonValue] = [
    {
        "id": BOOKING_ID,
        "property_id": "hotel-lisbon-01",
        "organization_id": "org-1",
        "channex_property_id": CHANNEX_PROPERTY_ID,
        "status": "cancelled",
        "unique_id": READS[2]["revision"]["unique_id"],
        "arrival_date": READS[2]["revision"]["arrival_date"],
        "departure_date": READS[2]["revision"]["departure_date"],
        "amount": "0.00",
        "currency": READS[2]["revision"]["currency"],
        "current_revision_id": READS[2]["id"],
        "last_sequence": 3,
        "personal_data_erased_at": None,
        "revisions": list(READS),
    }
]
DELIVERY_EXAMPLES: list[JsonValue] = [
    {
        "type": "booking.revision",
        "delivery_id": f"msg_5f0c8e2a9b7d4c1e8f3a6b2d9c0e7f1{n}",
        "sequence": example["sequence"],
        "data": example,
    }
    for n, example in enumerate(READS, start=1)
]
