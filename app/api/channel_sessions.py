"""The hotel connects an OTA itself (a session URL for Channex's channel iframe), or, on a
white-label account, the PMS connects it for the hotel (the Channel API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from app.api.deps import PrincipalDep, PropertyId, RequiredChannexDep, ResourcesDep, SessionDep
from app.jobs.requests import request_channel_state_deliveries, request_connection_follow_up
from app.schemas import ChannelRead
from app.schemas_channel_session import ChannelCreate, ChannelSessionCreate, ChannelSessionRead
from app.services import channel_sessions, white_label
from app.services.channel_state import channel_read
from app.services.properties import get_property

DEFAULT_OPTIONS = ChannelSessionCreate()

router = APIRouter(prefix="/v1/properties/{property_id}", tags=["channels"])


@router.post(
    "/channels/session",
    status_code=201,
    response_model=ChannelSessionRead,
    summary="Open a session for the hotel to connect an OTA",
)
async def create_channel_session(
    property_id: PropertyId,
    session: SessionDep,
    channex: RequiredChannexDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
    # Optional: no body offers every OTA in Channex's defaults.
    body: Annotated[ChannelSessionCreate, Body()] = DEFAULT_OPTIONS,
) -> ChannelSessionRead:
    """A one-time URL of Channex's channel iframe for the property: embed it (or open it) for
    the hotel, who picks an OTA, enters its hotel id and maps the rooms there. The token in it
    is single use and expires after 15 minutes; ask for a new session each time. The new
    channel shows in `GET …/channels`, inactive until the OTA side is approved, then active."""
    prop, _ = await get_property(session, principal, property_id)
    opened = await channel_sessions.open_session(
        channex, prop, body, resources.settings.channex_app_base_url
    )
    return ChannelSessionRead(url=opened.url, expires_at=opened.expires_at)


@router.post(
    "/channels",
    status_code=201,
    response_model=ChannelRead,
    summary="Connect an OTA without the iframe (white-label accounts)",
)
async def create_channel(
    property_id: PropertyId,
    body: ChannelCreate,
    session: SessionDep,
    channex: RequiredChannexDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> ChannelRead:
    """Where the Channex account is white-label (`CHANNEX_WHITE_LABEL`), create the OTA
    channel in Channex with the OTA's hotel id and a mapping of the PMS's own rate plans, and
    activate it: answered as `GET …/channels` lists it, live. Off (the default): 403
    `white_label_disabled`, use the session. A rate plan unknown or not in Channex yet: 422,
    nothing created."""
    white_label.require_white_label(resources.settings)
    prop, _ = await get_property(session, principal, property_id)
    connected = await white_label.connect_channel(session, resources.settings, channex, prop, body)
    await session.commit()
    found = connected.found
    for change in found.activated:
        await request_connection_follow_up(
            resources.queue, change.property_id, change.channex_channel_id
        )
    await request_channel_state_deliveries(resources.queue, found.deliveries)
    return await channel_read(session, connected.channel)
