"""Mapping of PMS rate plans (one per PMS room type) to Channex rate plans."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
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
from app.services.mapped_entity import ChannexCalls, MappedEntity, Put, Quota, Quotas, copy_values
from app.services.room_types import get_room_type, require_synced_property

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


@dataclass(frozen=True)
class Parents:
    """What a rate plan's Channex twin takes from its property and room type."""

    channex_property_id: str
    channex_room_type_id: str
    currency: str  # the property's, for a plan without a currency of its own


async def prepare_rate_plan_put(
    session: AsyncSession,
    principal: Principal,
    ids: tuple[str, str, str],
    body: RatePlanPut,
    *,
    quotas: Quotas,
) -> Put[RatePlan, Parents]:
    """The rate plan's PUT: created in Channex, adopted or updated, and its mapping stored."""
    pms_property_id, pms_room_type_id, pms_rate_plan_id = ids
    prop, room_type = await get_room_type(session, principal, pms_property_id, pms_room_type_id)
    values: dict[str, object] = {
        "title": body.title,
        "sell_mode": body.sell_mode,
        "currency": body.currency,
        "meal_type": body.meal_type,
        "options": normalize_options(body, room_type),
    }
    return Put(
        RATE_PLAN,
        key={"room_type_id": room_type.id, "pms_rate_plan_id": pms_rate_plan_id},
        values=values,
        adopt=body.channex_rate_plan_id,
        target=partial(_synced_parents, prop, room_type),
        parents={"property_id": prop.id},
        quota=Quota(
            {"room_type_id": room_type.id},
            quotas.rate_plans_per_room_type,
            "rate plans per room type",
        ),
    )


def channex_parents(prop: Property, room_type: RoomType) -> Parents:
    """The parents' Channex side; 409 while the room type is not in Channex."""
    if room_type.channex_room_type_id is None or room_type.sync_status != SyncStatus.SYNCED:
        raise conflict("room_type_not_synced", "the room type is not in Channex yet")
    assert prop.channex_property_id is not None
    return Parents(prop.channex_property_id, room_type.channex_room_type_id, prop.currency)


def _synced_parents(prop: Property, room_type: RoomType) -> Parents:
    require_synced_property(prop)
    return channex_parents(prop, room_type)


def channex_attributes(rate_plan: RatePlan, parents: Parents) -> RatePlanAttributes:
    currency = rate_plan.currency or parents.currency
    options = [
        RatePlanOption(
            occupancy=o["occupancy"],
            is_primary=o["is_primary"],
            rate=to_minor_units(Decimal(o["rate"]), currency),
        )
        for o in rate_plan.options
    ]
    return RatePlanAttributes(
        property_id=parents.channex_property_id,
        room_type_id=parents.channex_room_type_id,
        title=rate_plan.title,
        options=options,
        currency=rate_plan.currency,
        sell_mode="per_person" if rate_plan.sell_mode == "per_person" else "per_room",
        meal_type=rate_plan.meal_type,
    )


def _rate_plan_calls(
    channex: ChannexClient, rate_plan: RatePlan, parents: Parents, adopting: bool
) -> ChannexCalls:
    attrs = channex_attributes(rate_plan, parents)

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

    return ChannexCalls(update, create, candidates)


RATE_PLAN = MappedEntity(
    RatePlan, "rate_plan", RatePlan.channex_rate_plan_id, copy_values, _rate_plan_calls
)


async def unmap_rate_plan(
    session: AsyncSession, principal: Principal, ids: tuple[str, str, str]
) -> None:
    """Forget the mapping; the Channex rate plan is left as it is."""
    _, _, rate_plan = await get_rate_plan(session, principal, *ids)
    await session.delete(rate_plan)
    await session.flush()
