"""The hotel connects an OTA itself: a session URL for Channex's channel iframe."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from app.api.deps import PrincipalDep, PropertyId, RequiredChannexDep, ResourcesDep, SessionDep
from app.schemas_channel_session import ChannelSessionCreate, ChannelSessionRead
from app.services import channel_sessions
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
