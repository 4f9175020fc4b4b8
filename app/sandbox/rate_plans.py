"""Rate plans (channex-api.md §5)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.sandbox.deps import BodyDep, StateDep
from app.sandbox.errors import not_found
from app.sandbox.jsonapi import Json, filter_values, item, page, ref, success, unwrap
from app.sandbox.money import format_rate, parse_rate
from app.sandbox.state import RatePlan, SandboxState, new_id
from app.sandbox.validate import INVALID, Checker, is_int

router = APIRouter()

MEAL_TYPES = frozenset(
    [
        "none",
        "all_inclusive",
        "breakfast",
        "lunch",
        "dinner",
        "american",
        "bed_and_breakfast",
        "buffet_breakfast",
        "carribean_breakfast",
        "continental_breakfast",
        "english_breakfast",
        "european_plan",
        "family_plan",
        "full_board",
        "full_breakfast",
        "half_board",
        "room_only",
        "self_catering",
        "bermuda",
        "dinner_bed_and_breakfast_plan",
        "family_american",
        "breakfast_and_lunch",
        "lunch_and_dinner",
    ]
)
DEFAULTS = (
    "max_stay", "min_stay_arrival", "min_stay_through",
    "closed_to_arrival", "closed_to_departure", "stop_sell",
)  # fmt: skip
FIELDS: tuple[str, ...] = (
    "title",
    "currency",
    "sell_mode",
    "rate_mode",
    "meal_type",
    "parent_rate_plan_id",
)
FIELDS += ("tax_set_id", "children_fee", "infant_fee", *DEFAULTS)


def rate_plan_item(plan: RatePlan) -> Json:
    relationships = {
        "property": {"data": ref("property", plan.property_id)},
        "room_type": {"data": ref("room_type", plan.room_type_id)},
    }
    return item("rate_plan", plan.id, dict(plan.attrs), relationships)


def get_rate_plan(state: SandboxState, rate_plan_id: str) -> RatePlan:
    plan = state.store.rate_plans.get(rate_plan_id)
    if plan is None:
        raise not_found()
    return plan


def _check_options(checker: Checker, options: Any, max_adults: int, currency: str) -> list[Json]:
    """Occupancy options: occupancy 1..occ_adults, rate ≥ 0 (minor units or a string)."""
    if not isinstance(options, list) or not options:
        checker.add("options", "can't be blank")
        return []
    result = []
    for index, option in enumerate(options):
        where = f"options[{index}]"
        option = option if isinstance(option, dict) else {}
        occupancy, rate = option.get("occupancy"), parse_rate(option.get("rate", 0), currency)
        if not is_int(occupancy) or not 1 <= occupancy <= max_adults:
            checker.add(f"{where}.occupancy", f"must be between 1 and {max_adults}")
        if rate is None or rate < 0:
            checker.add(f"{where}.rate", INVALID)
            continue
        is_primary = bool(option.get("is_primary", False))
        result.append({"occupancy": occupancy, "is_primary": is_primary, "rate": format_rate(rate)})
    return result


def _checked(state: SandboxState, body: Any, current: RatePlan | None = None) -> RatePlan:
    attrs = unwrap(body, "rate_plan")
    checker = Checker(attrs, partial=current is not None)
    checker.text("title", required=True)
    checker.choice("sell_mode", ("per_room", "per_person"))
    checker.choice("rate_mode", ("manual", "derived", "cascade", "auto"))
    checker.choice("meal_type", MEAL_TYPES)
    checker.code("currency", 3)
    plan = current or RatePlan(
        "", str(attrs.get("property_id")), str(attrs.get("room_type_id")), {}
    )
    prop = state.store.properties.get(plan.property_id)
    room = state.store.room_types.get(plan.room_type_id)
    if current is None and prop is None:
        checker.add("property_id", INVALID)
    if current is None and (room is None or room.property_id != plan.property_id):
        checker.add("room_type_id", INVALID)
    elif current is not None and attrs.get("room_type_id", plan.room_type_id) != plan.room_type_id:
        checker.add("room_type_id", "can't be changed")
    currency = (
        attrs.get("currency") or plan.attrs.get("currency") or (prop and prop.attrs["currency"])
    )
    new = {k: v for k, v in attrs.items() if k in FIELDS and v is not None}
    if "options" in attrs or current is None:
        max_adults = int(room.attrs["occ_adults"]) if room else 1
        new["options"] = _check_options(checker, attrs.get("options"), max_adults, str(currency))
    title = new.get("title", plan.attrs.get("title"))
    if any(
        p.attrs["title"] == title and p.id != plan.id and p.property_id == plan.property_id
        for p in state.store.rate_plans.values()
    ):
        checker.add("title", "has already been taken")
    checker.raise_if_any()
    return RatePlan(plan.id or new_id(), plan.property_id, plan.room_type_id, new)


@router.get("/rate_plans")
async def list_rate_plans(request: Request, state: StateDep) -> Json:
    """List rate plans (filters `property_id`, `room_type_id`), by title."""
    property_ids = filter_values(request, "property_id")
    room_type_ids = filter_values(request, "room_type_id")
    plans = [
        p
        for p in state.store.rate_plans.values()
        if (property_ids is None or p.property_id in property_ids)
        and (room_type_ids is None or p.room_type_id in room_type_ids)
    ]
    plans.sort(key=lambda p: p.attrs["title"])
    return page(request, [rate_plan_item(p) for p in plans])


@router.get("/rate_plans/{rate_plan_id}")
async def read_rate_plan(rate_plan_id: str, state: StateDep) -> Json:
    """One rate plan."""
    return {"data": rate_plan_item(get_rate_plan(state, rate_plan_id))}


@router.post("/rate_plans", status_code=201)
async def create_rate_plan(body: BodyDep, state: StateDep) -> Json:
    """Create a rate plan (per room, manual, property currency unless told otherwise)."""
    async with state.lock:
        plan = _checked(state, body)
        currency = state.store.properties[plan.property_id].attrs["currency"]
        defaults = {"currency": currency, "sell_mode": "per_room", "rate_mode": "manual"}
        plan.attrs = {**defaults, **plan.attrs}
        state.store.rate_plans[plan.id] = plan
        return {"data": rate_plan_item(plan)}


@router.put("/rate_plans/{rate_plan_id}")
async def update_rate_plan(rate_plan_id: str, body: BodyDep, state: StateDep) -> Json:
    """Update the fields sent; the room type cannot change (§5)."""
    async with state.lock:
        plan = get_rate_plan(state, rate_plan_id)
        plan.attrs.update(_checked(state, body, plan).attrs)
        return {"data": rate_plan_item(plan)}


@router.delete("/rate_plans/{rate_plan_id}")
async def delete_rate_plan(rate_plan_id: str, state: StateDep) -> Json:
    """Delete a rate plan and its restrictions."""
    async with state.lock:
        get_rate_plan(state, rate_plan_id)
        del state.store.rate_plans[rate_plan_id]
        state.store.restrictions.pop(rate_plan_id, None)
        return success()
