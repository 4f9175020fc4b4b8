"""Room type mappings of a property."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Response

from app.api.deps import (
    ChannexDep,
    PrincipalDep,
    PropertyId,
    ResourcesDep,
    RoomTypeId,
    SessionDep,
    commit_or_record,
)
from app.api.views import room_type_read
from app.schemas import RoomTypePut, RoomTypeRead
from app.services import room_types as service
from app.services.mapped_entity import Quotas, put_mapped, record_put_failure
from app.services.properties import get_property

router = APIRouter(prefix="/v1/properties/{property_id}/room-types", tags=["mappings"])


@router.put(
    "/{room_type_id}", response_model=RoomTypeRead, summary="Create, update or adopt a room type"
)
async def put_room_type(
    property_id: PropertyId,
    room_type_id: RoomTypeId,
    body: RoomTypePut,
    session: SessionDep,
    channex: ChannexDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> RoomTypeRead:
    """Create or update the room type in Channex (or adopt one) and store the mapping."""
    quotas = Quotas.of(resources.settings)
    put = await service.prepare_room_type_put(
        session, principal, property_id, room_type_id, body, quotas=quotas
    )
    attempt = partial(put_mapped, session, channex, put)
    room_type = await commit_or_record(session, attempt, partial(record_put_failure, session, put))
    return room_type_read(room_type, property_id)


@router.get("/{room_type_id}", response_model=RoomTypeRead, summary="Get a room type mapping")
async def get_room_type(
    property_id: PropertyId, room_type_id: RoomTypeId, session: SessionDep, principal: PrincipalDep
) -> RoomTypeRead:
    """One room type mapping with its Channex id and sync state."""
    _, room_type = await service.get_room_type(session, principal, property_id, room_type_id)
    return room_type_read(room_type, property_id)


@router.get("", response_model=list[RoomTypeRead], summary="List a property's room types")
async def list_room_types(
    property_id: PropertyId, session: SessionDep, principal: PrincipalDep
) -> list[RoomTypeRead]:
    """Every room type mapping of the property (Channex allows at most a few dozen)."""
    prop, _ = await get_property(session, principal, property_id)
    return [
        room_type_read(rt, property_id) for rt in await service.list_room_types(session, prop.id)
    ]


@router.delete(
    "/{room_type_id}", status_code=204, response_class=Response, summary="Unmap a room type"
)
async def unmap_room_type(
    property_id: PropertyId, room_type_id: RoomTypeId, session: SessionDep, principal: PrincipalDep
) -> None:
    """Forget the mapping and its rate plans' mappings; Channex keeps the room type."""
    await service.unmap_room_type(session, principal, property_id, room_type_id)
    await session.commit()
