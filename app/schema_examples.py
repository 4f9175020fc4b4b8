"""Example values of the API's models, shown in the OpenAPI document (one per model).

One story throughout, so that the examples of a whole onboarding and sync read as one: the
organization "Adler Hotels GmbH" owns "Hotel Adler" in Munich (EUR), with a double room and
its best available rate, synced in 2027. Ids of the PMS's own choosing are short; Channex's
are UUIDs. tests/test_openapi_content.py validates each example against its schema.
"""

from __future__ import annotations

from typing import Any

from pydantic.config import JsonDict

Example = dict[str, Any]

ORG_ID = "adler-group"
PROPERTY_ID = "hotel-adler"
ROOM_TYPE_ID = "dbl"
RATE_PLAN_ID = "bar"
CHANNEX_GROUP_ID = "5b1f1c2e-8a7d-4f0e-9c3b-2d6e4a1f7b90"
CHANNEX_PROPERTY_ID = "716305c4-561a-4561-a187-7f5b8aeb5920"
CHANNEX_ROOM_TYPE_ID = "c9a5f1d2-3b4e-4c6a-8f7d-1e2b3c4d5e6f"
CHANNEX_RATE_PLAN_ID = "a3d8e6b1-7c2f-4e9a-b5d4-6f1e2a3b4c5d"
CHANNEX_CHANNEL_ID = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"
BOOKING_ID = "2b4f6c61-9d0a-4c8a-93a4-0f0b6f1d0e22"
REVISION_ID = "4ee2a1b4-d3b1-4a3c-8ee3-3a6b7a1b0c11"
QUARANTINED_REVISION_ID = "8c7b6a59-4e3d-4c2b-a190-8f7e6d5c4b3a"
TASK_ID = "9f8e7d6c-5b4a-4c3d-8e1f-0a9b8c7d6e5f"

CREATED_AT = "2027-01-11T09:30:00Z"
SYNCED_AT = "2027-01-11T09:30:02Z"

SYNC_STATE: Example = {
    "sync_status": "synced",
    "last_error": None,
    "synced_at": SYNCED_AT,
    "created_at": CREATED_AT,
    "updated_at": SYNCED_AT,
}

# --- organizations, properties, room types, rate plans ------------------------------------

ORGANIZATION_PUT: Example = {"title": "Adler Hotels GmbH"}
ORGANIZATION_READ: Example = {
    "id": ORG_ID,
    "title": "Adler Hotels GmbH",
    "channex_group_id": CHANNEX_GROUP_ID,
    "disconnected_at": None,
    **SYNC_STATE,
}

PROPERTY_DETAILS: Example = {
    "property_type": "hotel",
    "country": "DE",
    "city": "Munich",
    "address": "Marienplatz 8",
    "zip_code": "80331",
    "email": "reservations@hotel-adler.example",
    "phone": "+49 89 1234567",
    "latitude": "48.1374",
    "longitude": "11.5755",
}
PROPERTY_PUT: Example = {
    "organization_id": ORG_ID,
    "title": "Hotel Adler",
    "currency": "EUR",
    "timezone": "Europe/Berlin",
    **PROPERTY_DETAILS,
    "state_length": 500,
}
PROPERTY_READ: Example = {
    "id": PROPERTY_ID,
    "organization_id": ORG_ID,
    "title": "Hotel Adler",
    "currency": "EUR",
    "timezone": "Europe/Berlin",
    "state_length": 500,
    "details": PROPERTY_DETAILS,
    "channex_property_id": CHANNEX_PROPERTY_ID,
    "disconnected_at": None,
    **SYNC_STATE,
}

ROOM_TYPE_PUT: Example = {
    "title": "Double Room",
    "count_of_rooms": 12,
    "occ_adults": 2,
    "occ_children": 1,
    "occ_infants": 1,
    "default_occupancy": 2,
    "room_kind": "room",
}
ROOM_TYPE_READ: Example = {
    "id": ROOM_TYPE_ID,
    "property_id": PROPERTY_ID,
    **ROOM_TYPE_PUT,
    "channex_room_type_id": CHANNEX_ROOM_TYPE_ID,
    **SYNC_STATE,
}

RATE_PLAN_OPTION: Example = {"occupancy": 2, "is_primary": True, "rate": "149.00"}
RATE_PLAN_PUT: Example = {
    "title": "Best Available Rate",
    "sell_mode": "per_room",
    "currency": "EUR",
    "meal_type": "breakfast",
    "options": [RATE_PLAN_OPTION],
}
RATE_PLAN_READ: Example = {
    "id": RATE_PLAN_ID,
    "property_id": PROPERTY_ID,
    "room_type_id": ROOM_TYPE_ID,
    **RATE_PLAN_PUT,
    "channex_rate_plan_id": CHANNEX_RATE_PLAN_ID,
    **SYNC_STATE,
}

# --- what Channex holds ------------------------------------------------------------------

CHANNEX_ROOM_TYPE: Example = {
    "channex_room_type_id": CHANNEX_ROOM_TYPE_ID,
    "title": "Double Room",
    "occ_adults": 2,
    "count_of_rooms": 12,
    "mapped_room_type_id": ROOM_TYPE_ID,
}
CHANNEX_RATE_PLAN: Example = {
    "channex_rate_plan_id": CHANNEX_RATE_PLAN_ID,
    "channex_room_type_id": CHANNEX_ROOM_TYPE_ID,
    "title": "Best Available Rate",
    "sell_mode": "per_room",
    "mapped_rate_plan_id": RATE_PLAN_ID,
}
REFRESH_RESULT: Example = {
    "room_types_missing": [],
    "rate_plans_missing": ["nonref"],
    "restored": 0,
}
CHANNEL: Example = {
    "channex_channel_id": CHANNEX_CHANNEL_ID,
    "channel": "BookingCom",
    "title": "Booking.com Hotel Adler",
    "is_active": True,
    "state": "live",
    "state_changed_at": "2027-01-12T08:00:00Z",
    "last_event": "activate_channel",
    "error": None,
    "next_steps": [],
    "go_live": {
        "went_live_at": "2027-01-12T08:00:00Z",
        "full_sync": {
            "state": "done",
            "requested_at": "2027-01-12T08:00:00Z",
            "finished_at": "2027-01-12T08:00:05Z",
        },
        "import": {
            "state": "sent",
            "requested_at": "2027-01-12T08:00:00Z",
            "sent_at": "2027-01-12T08:00:02Z",
            "error": None,
            "bookings_received": 3,
        },
    },
    "updated_at": "2027-01-12T08:00:00Z",
}

# --- health ------------------------------------------------------------------------------

CHECK_RESULT: Example = {"ok": True, "detail": None}
READINESS_WARNING: Example = {
    "code": "channex_user_id_missing",
    "detail": "CHANNEX_USER_ID is not set: Channex's ari webhooks echoing our own pushes are "
    "taken for changes made by someone else, and each costs a drift check",
}
READINESS_BACKLOG: Example = {
    "webhook_events_pending": 2,
    "oldest_pending_webhook_event_at": "2027-05-14T09:30:02Z",
    "oldest_pending_webhook_event_age_seconds": 1.4,
    "deliveries_pending": 0,
    "deliveries_failed": 0,
    "oldest_undelivered_revision_at": None,
    "oldest_undelivered_revision_age_seconds": None,
}
READINESS: Example = {
    "ready": True,
    "checks": {
        "database": CHECK_RESULT,
        "channex_config": {"ok": True, "detail": "https://staging.channex.io/api/v1"},
        "redis": CHECK_RESULT,
    },
    "warnings": [READINESS_WARNING],
    "backlog": READINESS_BACKLOG,
}

# --- ARI ---------------------------------------------------------------------------------

AVAILABILITY_ITEM: Example = {
    "type": "availability",
    "room_type_id": ROOM_TYPE_ID,
    "date_from": "2027-06-01",
    "date_to": "2027-06-30",
    "availability": 7,
}
RESTRICTIONS_ITEM: Example = {
    "type": "restrictions",
    "room_type_id": ROOM_TYPE_ID,
    "rate_plan_id": RATE_PLAN_ID,
    "date_from": "2027-06-01",
    "date_to": "2027-09-30",
    "days": ["fr", "sa"],
    "rate": "149.00",
    "min_stay_arrival": 2,
}
OCCUPANCY_RATE: Example = {"occupancy": 2, "rate": "149.00"}
ARI_BATCH: Example = {"items": [AVAILABILITY_ITEM, RESTRICTIONS_ITEM]}
# 30 availability cells in June, and the 34 Fridays and Saturdays from June to September.
ARI_ACCEPTED: Example = {"change_id": "3f2c9a7e4b1d4e8f9a6b5c4d3e2f1a0b", "cells_changed": 64}

ARI_CELL_AVAILABILITY: Example = {
    "type": "availability",
    "room_type_id": ROOM_TYPE_ID,
    "rate_plan_id": None,
    "date": "2027-06-04",
    "desired": {"availability": 7},
    "status": "in_sync",
    "failure": None,
}
ARI_CELL_RESTRICTIONS: Example = {
    "type": "restrictions",
    "room_type_id": ROOM_TYPE_ID,
    "rate_plan_id": RATE_PLAN_ID,
    "date": "2027-06-04",
    "desired": {"rate": "149.00", "min_stay_arrival": 2},
    "status": "pending",
    "failure": None,
}
ARI_STATE: Example = {
    "property_id": PROPERTY_ID,
    "date_from": "2027-06-04",
    "date_to": "2027-06-04",
    "cells": [ARI_CELL_AVAILABILITY, ARI_CELL_RESTRICTIONS],
}
SYNC_RUN: Example = {
    "id": 1841,
    "kind": "incremental",
    "endpoint": "restrictions",
    "outcome": "success",
    "cells": 34,
    "values_count": 34,
    "requests_count": 1,
    "bytes_count": 2210,
    "date_from": "2027-06-04",
    "date_to": "2027-09-25",
    "task_ids": [TASK_ID],
    "warnings": [],
    "error": None,
    "started_at": "2027-01-12T07:00:05Z",
    "duration_ms": 412,
    "full_sync_id": None,
}
FULL_SYNC_RUN: Example = {
    **SYNC_RUN,
    "id": 1843,
    "kind": "full",
    "endpoint": "availability",
    "cells": 5000,
    "values_count": 212,
    "bytes_count": 18230,
    "date_from": "2027-01-12",
    "date_to": "2028-05-25",
    "started_at": "2027-01-12T07:00:01Z",
    "full_sync_id": 77,
}
FULL_SYNC: Example = {
    "id": 77,
    "property_id": PROPERTY_ID,
    "state": "running",
    "requested_at": "2027-01-12T07:00:00Z",
    "started_at": "2027-01-12T07:00:01Z",
    "finished_at": None,
    "runs": [FULL_SYNC_RUN],
}
ARI_CHANGE_CELLS: Example = {"in_sync": 60, "pending": 0, "held": 0, "failed": 4, "superseded": 0}
ARI_CHANGE: Example = {
    "change_id": ARI_ACCEPTED["change_id"],
    "property_id": PROPERTY_ID,
    "created_at": "2027-01-12T06:59:58Z",
    "items": 2,
    "cells_changed": 64,
    "state": "failed",
    "cells": ARI_CHANGE_CELLS,
    "runs": [SYNC_RUN],
}
DRIFT_CELL: Example = {
    "type": "availability",
    "room_type_id": ROOM_TYPE_ID,
    "rate_plan_id": None,
    "date": "2027-06-05",
    "field": "availability",
    "pushed": 7,
    "channex": 6,
}
DRIFT: Example = {
    "property_id": PROPERTY_ID,
    "date_from": "2027-06-01",
    "date_to": "2027-06-30",
    "checked_cells": 60,
    "differences": [DRIFT_CELL],
    "repaired": False,
}

# --- bookings ----------------------------------------------------------------------------

REPLAYED: Example = {"revision_id": REVISION_ID, "deliveries": 1}
ENDPOINT_PUT: Example = {
    "url": "https://pms.hotel-adler.example/channex/bookings",
    "channel_events": True,
}
ENDPOINT_READ: Example = {
    "scope": "org:1",
    "organization_id": ORG_ID,
    "url": "https://pms.hotel-adler.example/channex/bookings",
    "secret": None,
    "disabled_at": None,
    "disabled_reason": None,
    "failing_since": None,
    "last_error": None,
    "pending_deliveries": 0,
    "failed_deliveries": 0,
    "channel_events": True,
}
FLAGGED_REVISION: Example = {
    "revision_id": REVISION_ID,
    "booking_id": BOOKING_ID,
    "property_id": PROPERTY_ID,
    "channex_property_id": CHANNEX_PROPERTY_ID,
    "status": "new",
    "flags": ["unmapped_rate_plan"],
    "inserted_at": "2027-02-03T14:12:40Z",
}
QUARANTINED: Example = {
    "revision_id": QUARANTINED_REVISION_ID,
    "booking_id": None,
    "channex_property_id": CHANNEX_PROPERTY_ID,
    "reason": "ValidationError at booking_payloads.py:88 in revision_read",
    "quarantined_at": "2027-02-03T14:13:01Z",
    "resolved_at": None,
}
EVENT_PROBLEM: Example = {
    "event_id": 5120,
    "event": "booking",
    "status": "failed",
    "channex_property_id": CHANNEX_PROPERTY_ID,
    "channex_revision_id": QUARANTINED_REVISION_ID,
    "note": "Channex has no such revision",
    "received_at": "2027-02-03T14:12:58Z",
}
FAILED_DELIVERY: Example = {
    "revision_id": REVISION_ID,
    "booking_id": BOOKING_ID,
    "sequence": 2,
    "attempts": 12,
    "last_status_code": 503,
    "last_error": "the PMS answered HTTP 503",
}
FAILING_ENDPOINT: Example = {
    **ENDPOINT_READ,
    "failing_since": "2027-02-03T15:00:00Z",
    "last_error": "the PMS answered HTTP 503",
    "pending_deliveries": 3,
    "failed_deliveries": 1,
}
BOOKING_PROBLEMS: Example = {
    "flagged_revisions": [FLAGGED_REVISION],
    "quarantined_revisions": [QUARANTINED],
    "events": [EVENT_PROBLEM],
    "failed_deliveries": [FAILED_DELIVERY],
    "failing_endpoints": [FAILING_ENDPOINT],
}
WEBHOOK_RECEIVED: Example = {"received": True}

# --- envelopes ---------------------------------------------------------------------------

DEFAULT_LIMIT = 100  # app/api/deps.py PageParams


def page(item: Example) -> Example:
    """A whole (and last) page holding `item`: `next_offset` null."""
    return {"items": [item], "total": 1, "limit": DEFAULT_LIMIT, "offset": 0, "next_offset": None}


def examples(example: Example) -> JsonDict:
    """A model's `json_schema_extra`: its one example."""
    return {"examples": [example]}
