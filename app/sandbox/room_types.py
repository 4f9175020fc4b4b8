"""Room types (channex-api.md §4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.sandbox.deps import BodyDep, StateDep
from app.sandbox.errors import not_found
from app.sandbox.jsonapi import Json, filter_values, item, page, ref, success, unwrap
from app.sandbox.state import RoomType, SandboxState, new_id
from app.sandbox.validate import INVALID, Checker, is_int, known

router = APIRouter()

FIELDS = (
    "title", "count_of_rooms", "occ_adults", "occ_children", "occ_infants",
    "default_occupancy", "room_kind", "capacity", "facilities", "content",
)  # fmt: skip


def room_type_item(room: RoomType) -> Json:
    relationships = {"property": {"data": ref("property", room.property_id)}}
    return item("room_type", room.id, dict(room.attrs), relationships)


def get_room_type(state: SandboxState, room_type_id: str) -> RoomType:
    room = state.store.room_types.get(room_type_id)
    if room is None:
        raise not_found()
    return room


def _checked(
    state: SandboxState, body: Any, current: RoomType | None = None
) -> tuple[str, dict[str, Any]]:
    attrs = unwrap(body, "room_type")
    checker = Checker(attrs, partial=current is not None)
    checker.text("title", required=True)
    checker.integer("count_of_rooms", required=True, minimum=1)
    checker.integer("occ_adults", required=True, minimum=1)
    checker.integer("occ_children", required=True, minimum=0)
    checker.integer("occ_infants", required=True, minimum=0)
    checker.integer("default_occupancy", required=True, minimum=1)
    checker.choice("room_kind", ("room", "dorm"))
    checker.integer("capacity", minimum=1)
    property_id = current.property_id if current else attrs.get("property_id")
    if current is None and attrs.get("property_id") is None:
        checker.add("property_id", "can't be blank")
    elif not known(state.store.properties, property_id):
        checker.add("property_id", INVALID)
    merged = {**(current.attrs if current else {}), **attrs}
    adults, default = merged.get("occ_adults"), merged.get("default_occupancy")
    if is_int(adults) and is_int(default) and default > adults:
        checker.add("default_occupancy", "must be less than or equal to occ_adults")
    checker.raise_if_any()
    return str(property_id), {k: v for k, v in attrs.items() if k in FIELDS and v is not None}


@router.get("/room_types")
async def list_room_types(request: Request, state: StateDep) -> Json:
    """List room types (filter `property_id`), by title."""
    property_ids = filter_values(request, "property_id")
    rooms = [
        r
        for r in state.store.room_types.values()
        if property_ids is None or r.property_id in property_ids
    ]
    rooms.sort(key=lambda r: r.attrs["title"])
    return page(request, [room_type_item(r) for r in rooms])


@router.get("/room_types/{room_type_id}")
async def read_room_type(room_type_id: str, state: StateDep) -> Json:
    """One room type."""
    return {"data": room_type_item(get_room_type(state, room_type_id))}


@router.post("/room_types", status_code=201)
async def create_room_type(body: BodyDep, state: StateDep) -> Json:
    """Create a room type; its availability starts at 0 (§4)."""
    async with state.lock:
        property_id, attrs = _checked(state, body)
        attrs.setdefault("room_kind", "room")
        room = RoomType(new_id(), property_id, attrs)
        state.store.room_types[room.id] = room
        return {"data": room_type_item(room)}


@router.put("/room_types/{room_type_id}")
async def update_room_type(room_type_id: str, body: BodyDep, state: StateDep) -> Json:
    """Update the fields sent."""
    async with state.lock:
        room = get_room_type(state, room_type_id)
        _, attrs = _checked(state, body, room)
        room.attrs.update(attrs)
        return {"data": room_type_item(room)}


@router.delete("/room_types/{room_type_id}")
async def delete_room_type(room_type_id: str, state: StateDep) -> Json:
    """Delete a room type with its rate plans and ARI."""
    async with state.lock:
        get_room_type(state, room_type_id)
        store = state.store
        for plan in [p for p in store.rate_plans.values() if p.room_type_id == room_type_id]:
            del store.rate_plans[plan.id]
            store.restrictions.pop(plan.id, None)
        del store.room_types[room_type_id]
        store.availability.pop(room_type_id, None)
        return success()
