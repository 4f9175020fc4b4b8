"""Mapping of PMS rate plans (one per PMS room type) to Channex rate plans."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.channex.schemas import RatePlan as ChannexRatePlan
from app.channex.schemas import RatePlanAttributes, RatePlanOption
from app.domain.money import to_minor_units
from app.errors import FieldError, conflict, invalid, not_found
from app.models import Property, RatePlan, RoomType, SyncStatus
from app.schemas import RatePlanPut
from app.services.access import Principal
from app.services.remote import Remote, reach_remote
from app.services.room_types import get_room_type, require_synced_property
from app.services.rows import (
    ensure_unmapped,
    insert_ignore,
    lock_row,
)
from app.services.sync_state import mark_pending, mark_synced

log = logging.getLogger(__name__)


async def find_rate_plan(
    session: AsyncSession, room_type_id: int, pms_rate_plan_id: str
) -> RatePlan | None:
    stmt = select(RatePlan).where(
        RatePlan.room_type_id == room_type_id, RatePlan.pms_rate_plan_id == pms_rate_plan_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_rate_plan(
    session: AsyncSession,
    principal: Principal,
    pms_property_id: str,
    pms_room_type_id: str,
    pms_rate_plan_id: str,
) -> tuple[Property, RoomType, RatePlan]:
    prop, room_type = await get_room_type(session, principal, pms_property_id, pms_room_type_id)
    rate_plan = await find_rate_plan(session, room_type.id, pms_rate_plan_id)
    if rate_plan is None:
        raise not_found("rate plan", pms_rate_plan_id)
    return prop, room_type, rate_plan


async def list_rate_plans(
    session: AsyncSession, property_id: int, room_type_id: int | None = None
) -> Sequence[tuple[RatePlan, str]]:
    """Rate plans of a property (or of one room type) with their PMS room type ids."""
    stmt = (
        select(RatePlan, RoomType.pms_room_type_id)
        .join(RoomType, RatePlan.room_type_id == RoomType.id)
        .where(RatePlan.property_id == property_id)
        .order_by(RatePlan.id)
    )
    if room_type_id is not None:
        stmt = stmt.where(RatePlan.room_type_id == room_type_id)
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


def normalize_options(body: RatePlanPut, room_type: RoomType) -> list[dict[str, Any]]:
    """Occupancy options as Channex needs them: within the room's adults, one primary (§5)."""
    options = body.options or []
    if not options:
        return [{"occupancy": room_type.occ_adults, "is_primary": True, "rate": "0"}]
    errors = [
        FieldError(
            f"body.options.{i}.occupancy", f"exceeds the room's {room_type.occ_adults} adults"
        )
        for i, option in enumerate(options)
        if option.occupancy > room_type.occ_adults
    ]
    if len({option.occupancy for option in options}) != len(options):
        errors.append(FieldError("body.options", "occupancies must be distinct"))
    if sum(option.is_primary for option in options) > 1:
        errors.append(FieldError("body.options", "at most one option can be primary"))
    if body.sell_mode == "per_room" and len(options) > 1:
        errors.append(FieldError("body.options", "a per_room plan has exactly one option"))
    if errors:
        raise invalid("invalid rate plan options", errors)
    primary = next((o.occupancy for o in options if o.is_primary), options[0].occupancy)
    return [
        {"occupancy": o.occupancy, "is_primary": o.occupancy == primary, "rate": str(o.rate)}
        for o in sorted(options, key=lambda o: o.occupancy)
    ]


async def put_rate_plan(
    session: AsyncSession,
    channex: ChannexClient | None,
    principal: Principal,
    ids: tuple[str, str, str],
    body: RatePlanPut,
) -> tuple[RatePlan, RoomType]:
    """Create or update the rate plan in Channex and its mapping; never a second one."""
    pms_property_id, pms_room_type_id, pms_rate_plan_id = ids
    prop, room_type = await get_room_type(session, principal, pms_property_id, pms_room_type_id)
    values: dict[str, Any] = {
        "title": body.title,
        "sell_mode": body.sell_mode,
        "currency": body.currency,
        "meal_type": body.meal_type,
        "options": normalize_options(body, room_type),
    }
    key = {
        "property_id": prop.id,
        "room_type_id": room_type.id,
        "pms_rate_plan_id": pms_rate_plan_id,
    }
    await insert_ignore(session, RatePlan, {**key, **values})
    rate_plan = await find_rate_plan(session, room_type.id, pms_rate_plan_id)
    assert rate_plan is not None  # inserted above or by a concurrent twin
    rate_plan = await lock_row(session, rate_plan)
    changed = any(getattr(rate_plan, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(rate_plan, name, value)
    adopt = body.channex_rate_plan_id
    if adopt and adopt != rate_plan.channex_rate_plan_id:
        await ensure_unmapped(session, RatePlan.channex_rate_plan_id, adopt)
        rate_plan.channex_rate_plan_id = adopt
        changed = True
    if channex is None:
        mark_pending(rate_plan)
    elif changed or rate_plan.sync_status != SyncStatus.SYNCED:
        require_synced_property(prop)
        await sync_rate_plan(session, channex, rate_plan, room_type, prop, adopting=bool(adopt))
    await session.flush()
    return rate_plan, room_type


def channex_attributes(
    rate_plan: RatePlan, room_type: RoomType, prop: Property
) -> RatePlanAttributes:
    assert prop.channex_property_id is not None
    assert room_type.channex_room_type_id is not None
    currency = rate_plan.currency or prop.currency
    options = [
        RatePlanOption(
            occupancy=o["occupancy"],
            is_primary=o["is_primary"],
            rate=to_minor_units(Decimal(o["rate"]), currency),
        )
        for o in rate_plan.options
    ]
    return RatePlanAttributes(
        property_id=prop.channex_property_id,
        room_type_id=room_type.channex_room_type_id,
        title=rate_plan.title,
        options=options,
        currency=rate_plan.currency,
        sell_mode="per_person" if rate_plan.sell_mode == "per_person" else "per_room",
        meal_type=rate_plan.meal_type,
    )


async def sync_rate_plan(
    session: AsyncSession,
    channex: ChannexClient,
    rate_plan: RatePlan,
    room_type: RoomType,
    prop: Property,
    *,
    adopting: bool,
) -> None:
    """Make Channex's rate plan say what the row says, creating it only if no twin exists."""
    if room_type.channex_room_type_id is None or room_type.sync_status != SyncStatus.SYNCED:
        raise conflict("room_type_not_synced", "the room type is not in Channex yet")
    attrs = channex_attributes(rate_plan, room_type, prop)

    async def update(ident: str) -> None:
        if adopting:
            existing = await channex.get_rate_plan(ident)
            if existing.room_type_id != attrs.room_type_id:
                raise invalid(
                    "the Channex rate plan belongs to another room type",
                    [FieldError("body.channex_rate_plan_id", "belongs to another room type")],
                )
        await channex.update_rate_plan(ident, attrs)

    async def create() -> str:
        return (await channex.create_rate_plan(attrs)).id

    async def candidates() -> list[ChannexRatePlan]:
        return await channex.list_rate_plans(attrs.property_id, room_type_id=attrs.room_type_id)

    remote = Remote("rate_plan", RatePlan.channex_rate_plan_id, update, create, candidates)
    rate_plan.channex_rate_plan_id = await reach_remote(
        session, remote, rate_plan.channex_rate_plan_id, attrs.title, adopting=adopting
    )
    mark_synced(rate_plan)


async def unmap_rate_plan(
    session: AsyncSession, principal: Principal, ids: tuple[str, str, str]
) -> None:
    """Forget the mapping; the Channex rate plan is left as it is."""
    _, _, rate_plan = await get_rate_plan(session, principal, *ids)
    await session.delete(rate_plan)
    await session.flush()
