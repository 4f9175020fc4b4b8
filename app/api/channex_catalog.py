"""What Channex holds for a property, and its OTA channels."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import PrincipalDep, PropertyId, RequiredChannexDep, ResourcesDep, SessionDep
from app.jobs.requests import request_channel_state_deliveries, request_connection_follow_up
from app.schemas import ChannelRead, ChannexRatePlanRead, ChannexRoomTypeRead, RefreshResult
from app.services import catalog
from app.services.channel_state import channel_read
from app.services.properties import get_property

router = APIRouter(prefix="/v1/properties/{property_id}", tags=["channex"])


@router.get(
    "/channex/room-types",
    response_model=list[ChannexRoomTypeRead],
    summary="List the room types Channex holds",
)
async def list_channex_room_types(
    property_id: PropertyId,
    session: SessionDep,
    channex: RequiredChannexDep,
    principal: PrincipalDep,
) -> list[ChannexRoomTypeRead]:
    """Room types Channex holds for the property, with the PMS room type mapped to each."""
    prop, _ = await get_property(session, principal, property_id)
    return [
        ChannexRoomTypeRead(
            channex_room_type_id=item.id,
            title=item.title,
            occ_adults=item.occ_adults,
            count_of_rooms=item.count_of_rooms,
            mapped_room_type_id=mapped,
        )
        for item, mapped in await catalog.list_channex_room_types(session, channex, prop)
    ]


@router.get(
    "/channex/rate-plans",
    response_model=list[ChannexRatePlanRead],
    summary="List the rate plans Channex holds",
)
async def list_channex_rate_plans(
    property_id: PropertyId,
    session: SessionDep,
    channex: RequiredChannexDep,
    principal: PrincipalDep,
) -> list[ChannexRatePlanRead]:
    """Rate plans Channex holds for the property, with the PMS rate plan mapped to each."""
    prop, _ = await get_property(session, principal, property_id)
    return [
        ChannexRatePlanRead(
            channex_rate_plan_id=item.id,
            channex_room_type_id=item.room_type_id,
            title=item.title,
            sell_mode=item.sell_mode,
            mapped_rate_plan_id=mapped,
        )
        for item, mapped in await catalog.list_channex_rate_plans(session, channex, prop)
    ]


@router.post(
    "/channex/refresh", response_model=RefreshResult, summary="Check the mappings against Channex"
)
async def refresh_mappings(
    property_id: PropertyId,
    session: SessionDep,
    channex: RequiredChannexDep,
    principal: PrincipalDep,
) -> RefreshResult:
    """Compare the mappings with Channex and mark those whose Channex side is gone."""
    prop, _ = await get_property(session, principal, property_id)
    outcome = await catalog.refresh_mappings(session, channex, prop)
    await session.commit()
    return RefreshResult(
        room_types_missing=outcome.room_types_missing,
        rate_plans_missing=outcome.rate_plans_missing,
        restored=outcome.restored,
    )


@router.get(
    "/channels", response_model=list[ChannelRead], summary="List the property's OTA channels"
)
async def list_channels(
    property_id: PropertyId,
    session: SessionDep,
    channex: RequiredChannexDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> list[ChannelRead]:
    """The property's OTA channels as Channex reports them now: each one's connection state,
    what the hotel has to do next, and its last go-live (full ARI sync, import of bookings)."""
    prop, _ = await get_property(session, principal, property_id)
    found = await catalog.sync_channels(session, resources.settings, channex, prop)
    await session.commit()
    for change in found.activated:
        await request_connection_follow_up(
            resources.queue, change.property_id, change.channex_channel_id
        )
    await request_channel_state_deliveries(resources.queue, found.deliveries)
    return [await channel_read(session, row) for row in found.channels]
