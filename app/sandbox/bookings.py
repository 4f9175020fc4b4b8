"""Booking revisions (feed, read, ack) and bookings (channex-api.md §7.2)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.sandbox.deps import StateDep
from app.sandbox.errors import not_found, validation_error
from app.sandbox.jsonapi import Json, filter_values, item, page, ref, success
from app.sandbox.reservations import get_booking, latest
from app.sandbox.state import Booking, Revision, SandboxState

router = APIRouter()

DATE_FILTERS = ("arrival_date", "departure_date", "inserted_at")


def revision_item(revision: Revision) -> Json:
    relationships = {
        "property": {"data": ref("property", revision.property_id)},
        "booking": {"data": ref("booking", revision.booking_id)},
    }
    return item("booking_revision", revision.id, dict(revision.attrs), relationships)


def booking_item(state: SandboxState, booking: Booking) -> Json:
    """The booking = its latest revision, with the booking id and `revision_id` (§7.1)."""
    revision = latest(state, booking)
    unacked = any(not state.store.revisions[r].acked for r in booking.revision_ids)
    attributes = {
        **revision.attrs,
        "revision_id": revision.id,
        "inserted_at": state.store.revisions[booking.revision_ids[0]].attrs["inserted_at"],
        "acknowledge_status": "pending" if unacked else "acknowledged",
        "has_unacked_revisions": unacked,
        "is_crs_revision": False,
    }
    relationships = {"property": {"data": ref("property", booking.property_id)}}
    return item("booking", booking.id, attributes, relationships)


def _ordered(request: Request, revisions: list[Revision]) -> list[Revision]:
    """Oldest first unless `order[inserted_at]=desc` (§7.3)."""
    descending = request.query_params.get("order[inserted_at]") == "desc"
    return sorted(revisions, key=lambda r: r.inserted_at, reverse=descending)


def _for_properties(request: Request, revisions: list[Revision]) -> list[Revision]:
    wanted = filter_values(request, "property_id")
    return [r for r in revisions if wanted is None or r.property_id in wanted]


@router.get("/booking_revisions/feed")
async def read_revision_feed(request: Request, state: StateDep) -> Json:
    """Unacknowledged revisions, oldest first, 10 per page unless paginated."""
    unacked = [r for r in state.store.revisions.values() if not r.acked]
    revisions = _ordered(request, _for_properties(request, unacked))
    return page(request, [revision_item(r) for r in revisions])


@router.get("/booking_revisions")
async def list_revisions(request: Request, state: StateDep) -> Json:
    """All revisions (filters `property_id`, `booking_id`)."""
    revisions = _for_properties(request, list(state.store.revisions.values()))
    booking_ids = filter_values(request, "booking_id")
    revisions = [r for r in revisions if booking_ids is None or r.booking_id in booking_ids]
    return page(request, [revision_item(r) for r in _ordered(request, revisions)])


@router.get("/booking_revisions/{revision_id}")
async def read_revision(revision_id: str, state: StateDep) -> Json:
    """One revision, acknowledged or not."""
    revision = state.store.revisions.get(revision_id)
    if revision is None:
        raise not_found()
    return {"data": revision_item(revision)}


@router.post("/booking_revisions/{revision_id}/ack")
async def acknowledge_revision(revision_id: str, state: StateDep) -> Json:
    """Acknowledge a revision (by revision id): it leaves the feed (§7.2)."""
    async with state.lock:
        revision = state.store.revisions.get(revision_id)
        if revision is None:
            raise not_found()
        revision.acked = True
        return success()


def _date_filters(request: Request, booking: Json) -> bool:
    """`filter[<field>][gte|lte|gt|lt|eq]` on arrival, departure, insertion (ISO strings)."""
    comparisons = {
        "gte": str.__ge__, "lte": str.__le__, "gt": str.__gt__, "lt": str.__lt__, "eq": str.__eq__,
    }  # fmt: skip
    for field in DATE_FILTERS:
        for operator, compare in comparisons.items():
            bound = request.query_params.get(f"filter[{field}][{operator}]")
            if bound is not None and not compare(str(booking[field]), bound):
                return False
    return True


@router.get("/bookings")
async def list_bookings(request: Request, state: StateDep) -> Json:
    """Bookings (filters `property_id`, dates with gte/lte), newest first."""
    for key in request.query_params:
        if key.startswith("filter[") and key.split("[")[1].rstrip("]") not in {
            *DATE_FILTERS,
            "property_id",
        }:
            raise validation_error({key: ["is invalid"]})
    wanted = filter_values(request, "property_id")
    items = [
        booking_item(state, b)
        for b in state.store.bookings.values()
        if wanted is None or b.property_id in wanted
    ]
    items = [i for i in items if _date_filters(request, i["attributes"])]
    items.sort(key=lambda i: str(i["attributes"]["inserted_at"]), reverse=True)
    return page(request, items)


@router.get("/bookings/{booking_id}")
async def read_booking(booking_id: str, state: StateDep) -> Json:
    """One booking: its latest state."""
    return {"data": booking_item(state, get_booking(state, booking_id))}
