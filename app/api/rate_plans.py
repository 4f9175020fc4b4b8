"""Rate plan mappings: one Channex rate plan per PMS rate plan and room type."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Response

from app.api.deps import (
    ChannexDep,
    PrincipalDep,
    PropertyId,
    RatePlanId,
    ResourcesDep,
    RoomTypeId,
    SessionDep,
    commit_or_record,
)
from app.api.views import rate_plan_read
from app.schemas import RatePlanPut, RatePlanRead
from app.services import rate_plans as service
from app.services.mapped_entity import Quotas, put_mapped, record_put_failure
from app.services.properties import get_property
from app.services.room_types import get_room_type

router = APIRouter(prefix="/v1/properties/{property_id}", tags=["mappings"])


@router.put(
    "/room-types/{room_type_id}/rate-plans/{rate_plan_id}",
    response_model=RatePlanRead,
    summary="Create, update or adopt a rate plan",
)
async def put_rate_plan(
    property_id: PropertyId,
    room_type_id: RoomTypeId,
    rate_plan_id: RatePlanId,
    body: RatePlanPut,
    session: SessionDep,
    channex: ChannexDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> RatePlanRead:
    """Create or update the rate plan in Channex (or adopt one) and store the mapping."""
    ids = (property_id, room_type_id, rate_plan_id)
    quotas = Quotas.of(resources.settings)
    put = await service.prepare_rate_plan_put(session, principal, ids, body, quotas=quotas)
    attempt = partial(put_mapped, session, channex, put)
    rate_plan = await commit_or_record(session, attempt, partial(record_put_failure, session, put))
    return rate_plan_read(rate_plan, property_id, room_type_id)


@router.get(
    "/room-types/{room_type_id}/rate-plans/{rate_plan_id}",
    response_model=RatePlanRead,
    summary="Get a rate plan mapping",
)
async def get_rate_plan(
    property_id: PropertyId,
    room_type_id: RoomTypeId,
    rate_plan_id: RatePlanId,
    session: SessionDep,
    principal: PrincipalDep,
) -> RatePlanRead:
    """One rate plan mapping with its Channex id and sync state."""
    ids = (property_id, room_type_id, rate_plan_id)
    _, _, rate_plan = await service.get_rate_plan(session, principal, *ids)
    return rate_plan_read(rate_plan, property_id, room_type_id)


@router.get(
    "/room-types/{room_type_id}/rate-plans",
    response_model=list[RatePlanRead],
    summary="List a room type's rate plans",
)
async def list_room_type_rate_plans(
    property_id: PropertyId, room_type_id: RoomTypeId, session: SessionDep, principal: PrincipalDep
) -> list[RatePlanRead]:
    """Rate plan mappings of one room type."""
    prop, room_type = await get_room_type(session, principal, property_id, room_type_id)
    rows = await service.list_rate_plans(session, prop.id, room_type.id)
    return [rate_plan_read(rp, property_id, rt_id) for rp, rt_id in rows]


@router.get(
    "/rate-plans", response_model=list[RatePlanRead], summary="List a property's rate plans"
)
async def list_rate_plans(
    property_id: PropertyId, session: SessionDep, principal: PrincipalDep
) -> list[RatePlanRead]:
    """Every rate plan mapping of the property."""
    prop, _ = await get_property(session, principal, property_id)
    rows = await service.list_rate_plans(session, prop.id)
    return [rate_plan_read(rp, property_id, rt_id) for rp, rt_id in rows]


@router.delete(
    "/room-types/{room_type_id}/rate-plans/{rate_plan_id}",
    status_code=204,
    response_class=Response,
    summary="Unmap a rate plan",
)
async def unmap_rate_plan(
    property_id: PropertyId,
    room_type_id: RoomTypeId,
    rate_plan_id: RatePlanId,
    session: SessionDep,
    principal: PrincipalDep,
) -> None:
    """Forget the mapping; Channex keeps the rate plan."""
    await service.unmap_rate_plan(session, principal, (property_id, room_type_id, rate_plan_id))
    await session.commit()
