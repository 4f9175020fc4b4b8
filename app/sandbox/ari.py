"""Availability, rates and restrictions: writes and reads (channex-api.md §6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request

from app.sandbox.ari_values import Problems, Value, check_availability, check_restriction
from app.sandbox.delivery import fire_event, matching
from app.sandbox.deps import BodyDep, StateDep, endpoint_name
from app.sandbox.errors import bad_request, too_many_requests, validation_error
from app.sandbox.jsonapi import Json, filter_values
from app.sandbox.ratelimit import admit
from app.sandbox.state import SandboxState, new_id
from app.sandbox.validate import known

router = APIRouter()

Checker = Callable[[SandboxState, Any], Value | Problems]
MAX_READ_DAYS = 731
RESTRICTION_DEFAULTS: dict[str, Any] = {
    "min_stay_arrival": 1, "min_stay_through": 1, "min_stay": 1, "max_stay": 0,
    "closed_to_arrival": False, "closed_to_departure": False, "stop_sell": False,
    "availability_offset": 0, "max_availability": None,
}  # fmt: skip
READABLE = frozenset({"availability", "rate", *RESTRICTION_DEFAULTS})


def _values(body: Any) -> list[Any]:
    values = body.get("values") if isinstance(body, dict) else None
    if not isinstance(values, list):
        raise bad_request("values is required")
    return values


def _write(
    request: Request, state: SandboxState, body: Any, check: Checker
) -> tuple[Json, list[Value]]:
    """Check, rate-limit and answer one ARI write; returns the answer and the accepted values."""
    endpoint = endpoint_name(request)
    values = _values(body)
    counter = state.counter(endpoint)
    properties = {
        str(v["property_id"])
        for v in values
        if isinstance(v, dict) and known(state.store.properties, v.get("property_id"))
    }
    if not admit(state, endpoint, properties):
        counter.rate_limited += 1
        raise too_many_requests()
    accepted: list[Value] = []
    warnings: list[Json] = []
    for raw in values:
        result = check(state, raw)
        if isinstance(result, Value):
            accepted.append(result)
        else:
            echo = raw if isinstance(raw, dict) else {"value": raw}
            warnings.append({**echo, "warning": result})
    counter.values += len(values)
    counter.rejected_values += len(warnings)
    data = [{"id": new_id(), "type": "task"}] if accepted else []
    return {"data": data, "meta": {"message": "Success", "warnings": warnings}}, accepted


@router.post("/availability")
async def update_availability(request: Request, body: BodyDep, state: StateDep) -> Json:
    """Set availability per room type and date; bad values come back as warnings (§6.6)."""
    async with state.lock:
        answer, accepted = _write(request, state, body, check_availability)
        for value in accepted:
            cells = state.store.availability.setdefault(value.target_id, {})
            for day in value.dates:
                cells[day] = value.fields["availability"]
        _notify(state, accepted, "room_type_id")
    return answer


@router.post("/restrictions")
async def update_restrictions(request: Request, body: BodyDep, state: StateDep) -> Json:
    """Set rates and restrictions per rate plan and date; only the fields sent change (§6.3)."""
    async with state.lock:
        answer, accepted = _write(request, state, body, check_restriction)
        for value in accepted:
            cells = state.store.restrictions.setdefault(value.target_id, {})
            for day in value.dates:
                cells.setdefault(day, {}).update(value.fields)
        _notify(state, accepted, "rate_plan_id")
    return answer


def _notify(state: SandboxState, accepted: list[Value], key: str) -> None:
    """Fire the `ari` event per property with the cells written (§8.3), if anyone listens."""
    for property_id in {value.property_id for value in accepted}:
        if not matching(state, ("ari",), property_id):
            continue
        changes = [
            {"date": day.isoformat(), key: value.target_id, **value.fields}
            for value in accepted
            if value.property_id == property_id
            for day in value.dates
        ]
        fire_event(state, ("ari",), property_id, changes, user_id=state.user_id)


def _read_scope(request: Request, state: SandboxState) -> tuple[str, list[date]]:
    """One property id and the dates of `filter[date]` or `filter[date][gte|lte]` (§6.1)."""
    property_ids = filter_values(request, "property_id")
    if not property_ids:
        raise bad_request("property_id is required")
    if len(property_ids) > 1 or property_ids[0] not in state.store.properties:
        raise validation_error({"property_id": ["is invalid"]})
    params = request.query_params
    raw_from = params.get("filter[date][gte]") or params.get("filter[date]")
    raw_to = params.get("filter[date][lte]") or params.get("filter[date]")
    try:
        first, last = date.fromisoformat(raw_from or ""), date.fromisoformat(raw_to or "")
    except ValueError:
        raise validation_error({"date": ["is invalid"]}) from None
    if last < first or (last - first).days >= MAX_READ_DAYS:
        raise validation_error({"date": ["is invalid"]})
    return property_ids[0], [first + timedelta(days=n) for n in range((last - first).days + 1)]


@router.get("/availability")
async def read_availability(request: Request, state: StateDep) -> Json:
    """Availability per room type and date: `{room_type_id: {date: int}}`."""
    property_id, dates = _read_scope(request, state)
    data: Json = {}
    for room in state.store.room_types.values():
        if room.property_id == property_id:
            cells = state.store.availability.get(room.id, {})
            data[room.id] = {d.isoformat(): cells.get(d, 0) for d in dates}
    return {"data": data}


@router.get("/restrictions")
async def read_restrictions(request: Request, state: StateDep) -> Json:
    """Restrictions per rate plan and date; `filter[restrictions]` is required (§6.1)."""
    names = filter_values(request, "restrictions")
    if not names:
        raise bad_request("restrictions is required")
    if unknown := [n for n in names if n not in READABLE]:
        raise validation_error({"restrictions": [f"{unknown[0]} is invalid"]})
    property_id, dates = _read_scope(request, state)
    data: Json = {}
    for plan in state.store.rate_plans.values():
        if plan.property_id == property_id:
            data[plan.id] = {d.isoformat(): _cell(state, plan.id, d, names) for d in dates}
    return {"data": data}


def _cell(state: SandboxState, rate_plan_id: str, day: date, names: list[str]) -> Json:
    """One rate plan's date: what was written, else the plan's defaults."""
    plan = state.store.rate_plans[rate_plan_id]
    primary = next((o for o in plan.attrs["options"] if o["is_primary"]), plan.attrs["options"][0])
    stored = state.store.restrictions.get(rate_plan_id, {}).get(day, {})
    availability = state.store.availability.get(plan.room_type_id, {}).get(day, 0)
    full = {**RESTRICTION_DEFAULTS, "rate": primary["rate"], "availability": availability, **stored}
    return {name: full[name] for name in names}
