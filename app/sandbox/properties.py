"""Properties (channex-api.md §3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.sandbox.deps import BodyDep, StateDep
from app.sandbox.errors import not_found, validation_error
from app.sandbox.groups import default_group
from app.sandbox.jsonapi import Json, filter_values, item, page, ref, success, unwrap
from app.sandbox.state import Property, SandboxState, new_id
from app.sandbox.validate import INVALID, Checker, is_int, known

router = APIRouter()

PROPERTY_TYPES = frozenset(
    [
        "apart_hotel",
        "apartment",
        "boat",
        "camping",
        "capsule_hotel",
        "chalet",
        "country_house",
        "farm_stay",
        "guest_house",
        "holiday_home",
        "holiday_park",
        "homestay",
        "hostel",
        "hotel",
        "inn",
        "lodge",
        "motel",
        "resort",
        "riad",
        "ryokan",
        "tent",
        "villa",
    ]
)
TEXT_FIELDS = {"email": 255, "state": 255, "city": 255, "address": 255, "phone": 32}
TEXT_FIELDS |= {"zip_code": 32, "timezone": 255, "website": 255, "logo_url": 255}
TEXT_FIELDS |= {"latitude": 32, "longitude": 32}
SETTING_FLAGS = (
    "allow_availability_autoupdate_on_modification",
    "allow_availability_autoupdate_on_cancellation",
)


def property_item(state: SandboxState, prop: Property) -> Json:
    groups = [state.store.groups[g] for g in prop.group_ids if g in state.store.groups]
    channels = [c for c in state.store.channels.values() if prop.id in c.property_ids]
    attributes = {**prop.attrs, "is_active": True, "acc_channels_count": len(channels)}
    data = [ref("group", g.id, title=g.title) for g in groups]
    return item("property", prop.id, attributes, {"groups": {"data": data}})


def get_property(state: SandboxState, property_id: str) -> Property:
    prop = state.store.properties.get(property_id)
    if prop is None:
        raise not_found()
    return prop


def default_settings(state: SandboxState) -> dict[str, Any]:
    return {
        "allow_availability_autoupdate_on_confirmation": True,
        "allow_availability_autoupdate_on_modification": False,
        "allow_availability_autoupdate_on_cancellation": False,
        "min_stay_type": "both",
        "state_length": state.config.state_length,
    }


def _check_settings(checker: Checker, settings: Any) -> None:
    if settings is None:
        return
    if not isinstance(settings, dict):
        checker.add("settings", INVALID)
        return
    inner = Checker(settings)
    inner.integer("state_length", minimum=100)
    if is_int(settings.get("state_length")) and settings["state_length"] > 730:
        inner.add("state_length", "must be less than or equal to 730")
    inner.choice("min_stay_type", ("both", "arrival", "through"))
    for flag in SETTING_FLAGS:
        inner.boolean(flag)
    for field, messages in inner.errors.items():
        checker.errors[f"settings.{field}"] = messages


def _checked(state: SandboxState, body: Any, *, partial: bool) -> dict[str, Any]:
    attrs = unwrap(body, "property")
    checker = Checker(attrs, partial=partial)
    checker.text("title", required=True)
    checker.code("currency", 3, required=True)
    checker.code("country", 2)
    checker.choice("property_type", PROPERTY_TYPES)
    for field, max_len in TEXT_FIELDS.items():
        checker.text(field, max_len=max_len)
    group_id = attrs.get("group_id")
    if group_id is not None and not known(state.store.groups, group_id):
        checker.add("group_id", INVALID)
    _check_settings(checker, attrs.get("settings"))
    checker.raise_if_any()
    return {k: v for k, v in attrs.items() if v is not None and k != "group_id"}


@router.get("/properties")
async def list_properties(request: Request, state: StateDep) -> Json:
    """List properties (filters `id`, `title`), by title."""
    props = sorted(state.store.properties.values(), key=lambda p: p.attrs["title"])
    ids, titles = filter_values(request, "id"), filter_values(request, "title")
    props = [p for p in props if ids is None or p.id in ids]
    props = [p for p in props if titles is None or p.attrs["title"] in titles]
    return page(request, [property_item(state, p) for p in props])


@router.get("/properties/{property_id}")
async def read_property(property_id: str, state: StateDep) -> Json:
    """One property."""
    return {"data": property_item(state, get_property(state, property_id))}


@router.post("/properties", status_code=201)
async def create_property(body: BodyDep, state: StateDep) -> Json:
    """Create a property, in `group_id` or else the default group."""
    async with state.lock:
        attrs = _checked(state, body, partial=False)
        attrs["settings"] = {**default_settings(state), **attrs.get("settings", {})}
        group_id = unwrap(body, "property").get("group_id") or default_group(state).id
        prop = Property(new_id(), attrs, [group_id])
        state.store.properties[prop.id] = prop
        return {"data": property_item(state, prop)}


@router.put("/properties/{property_id}")
async def update_property(property_id: str, body: BodyDep, state: StateDep) -> Json:
    """Update the fields sent."""
    async with state.lock:
        prop = get_property(state, property_id)
        attrs = _checked(state, body, partial=True)
        settings = {**prop.attrs["settings"], **attrs.pop("settings", {})}
        prop.attrs.update(attrs, settings=settings)
        return {"data": property_item(state, prop)}


@router.delete("/properties/{property_id}")
async def delete_property(property_id: str, request: Request, state: StateDep) -> Json:
    """Delete a property with its room types and rate plans; 422 while it has channels."""
    async with state.lock:
        get_property(state, property_id)
        store = state.store
        has_channels = any(property_id in c.property_ids for c in store.channels.values())
        if has_channels and request.query_params.get("force") != "true":
            raise validation_error({"property": ["has channel(s)"]})
        for plan in [p for p in store.rate_plans.values() if p.property_id == property_id]:
            del store.rate_plans[plan.id]
            store.restrictions.pop(plan.id, None)
        for room in [r for r in store.room_types.values() if r.property_id == property_id]:
            del store.room_types[room.id]
            store.availability.pop(room.id, None)
        del store.properties[property_id]
        return success()
