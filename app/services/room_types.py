"""Mapping of PMS room types to Channex room types."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.channex.schemas import RoomType as ChannexRoomType
from app.channex.schemas import RoomTypeAttributes
from app.errors import FieldError, conflict, invalid, not_found
from app.models import Property, RatePlan, RoomType, SyncStatus
from app.schemas import RoomTypePut
from app.services.access import Principal
from app.services.mapped_entity import ChannexCalls, MappedEntity, Put, Quota, Quotas, copy_values
from app.services.properties import get_property

log = logging.getLogger(__name__)


async def find_room_type(
    session: AsyncSession, property_id: int, pms_room_type_id: str
) -> RoomType | None:
    stmt = select(RoomType).where(
        RoomType.property_id == property_id, RoomType.pms_room_type_id == pms_room_type_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_room_type(
    session: AsyncSession, principal: Principal, pms_property_id: str, pms_room_type_id: str
) -> tuple[Property, RoomType]:
    prop, _ = await get_property(session, principal, pms_property_id)
    room_type = await find_room_type(session, prop.id, pms_room_type_id)
    if room_type is None:
        raise not_found("room type", pms_room_type_id)
    return prop, room_type


async def list_room_types(session: AsyncSession, property_id: int) -> Sequence[RoomType]:
    stmt = select(RoomType).where(RoomType.property_id == property_id).order_by(RoomType.id)
    return (await session.execute(stmt)).scalars().all()


def require_synced_property(prop: Property) -> str:
    """The Channex id of a property that is ready to hold room types and rate plans."""
    if prop.disconnected_at is not None:
        raise conflict("property_disconnected", "the property is disconnected")
    if prop.channex_property_id is None or prop.sync_status != SyncStatus.SYNCED:
        raise conflict("property_not_synced", "the property has no Channex property yet")
    return prop.channex_property_id


async def prepare_room_type_put(
    session: AsyncSession,
    principal: Principal,
    pms_property_id: str,
    pms_room_type_id: str,
    body: RoomTypePut,
    *,
    quotas: Quotas,
) -> Put[RoomType, str]:
    """The room type's PUT: created in Channex, adopted or updated, and its mapping stored."""
    prop, _ = await get_property(session, principal, pms_property_id)
    return Put(
        ROOM_TYPE,
        key={"property_id": prop.id, "pms_room_type_id": pms_room_type_id},
        values=body.model_dump(exclude={"channex_room_type_id"}),
        adopt=body.channex_room_type_id,
        target=partial(require_synced_property, prop),
        quota=Quota(
            {"property_id": prop.id}, quotas.room_types_per_property, "room types per property"
        ),
    )


def channex_attributes(room_type: RoomType, channex_property_id: str) -> RoomTypeAttributes:
    return RoomTypeAttributes(
        property_id=channex_property_id,
        title=room_type.title,
        count_of_rooms=room_type.count_of_rooms,
        occ_adults=room_type.occ_adults,
        occ_children=room_type.occ_children,
        occ_infants=room_type.occ_infants,
        default_occupancy=room_type.default_occupancy,
        room_kind="dorm" if room_type.room_kind == "dorm" else "room",
    )


def _room_type_calls(
    channex: ChannexClient, room_type: RoomType, channex_property_id: str, adopting: bool
) -> ChannexCalls:
    attrs = channex_attributes(room_type, channex_property_id)

    async def update(ident: str) -> None:
        if adopting:
            existing = await channex.get_room_type(ident)
            if existing.property_id != channex_property_id:
                raise invalid(
                    "the Channex room type belongs to another property",
                    [FieldError("body.channex_room_type_id", "belongs to another property")],
                )
        await channex.update_room_type(ident, attrs)

    async def create() -> str:
        return (await channex.create_room_type(attrs)).id

    async def candidates() -> list[ChannexRoomType]:
        return await channex.list_room_types(channex_property_id)

    return ChannexCalls(update, create, candidates)


ROOM_TYPE = MappedEntity(
    RoomType, "room_type", RoomType.channex_room_type_id, copy_values, _room_type_calls
)


async def unmap_room_type(
    session: AsyncSession, principal: Principal, pms_property_id: str, pms_room_type_id: str
) -> None:
    """Forget the mapping (and its rate plans' mappings); the Channex side is left as it is."""
    _, room_type = await get_room_type(session, principal, pms_property_id, pms_room_type_id)
    await session.execute(delete(RatePlan).where(RatePlan.room_type_id == room_type.id))
    await session.delete(room_type)
    await session.flush()
