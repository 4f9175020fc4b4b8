"""Sandbox-only routes of the OTA simulator: bookings and channel connections."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.sandbox.channels import channel_item, create_channel, get_channel, set_active
from app.sandbox.delivery import fire_event
from app.sandbox.deps import StateDep
from app.sandbox.errors import not_found, validation_error
from app.sandbox.jsonapi import Json
from app.sandbox.ota import ChannelCode, OtaBooking, OtaModification
from app.sandbox.reservations import cancel_booking, create_booking, modify_booking
from app.sandbox.state import Revision, new_id

router = APIRouter(prefix="/sandbox")


class ChannelConnection(BaseModel):
    """An OTA connection as the hotel would make it in the OTA's extranet."""

    model_config = ConfigDict(extra="forbid")

    channel: ChannelCode
    title: str | None = None
    # Rate plans to map; all of the property's when absent.
    rate_plan_ids: list[str] | None = None
    settings: dict[str, str] = Field(default_factory=dict)


def _summary(revision: Revision) -> Json:
    return {
        "data": {
            "booking_id": revision.booking_id,
            "revision_id": revision.id,
            "status": revision.attrs["status"],
            "unique_id": revision.attrs["unique_id"],
        }
    }


@router.post("/properties/{property_id}/bookings", status_code=201)
async def simulate_booking(property_id: str, request: OtaBooking, state: StateDep) -> Json:
    """An OTA books: a `new` revision enters the feed and the booking webhooks fire."""
    async with state.lock:
        result = create_booking(state, property_id, request)
        if isinstance(result, str):
            return {"data": {"ota_reservation_code": result, "delivered": False}}
        return _summary(result)


@router.post("/bookings/{booking_id}/modify")
async def simulate_modification(booking_id: str, changes: OtaModification, state: StateDep) -> Json:
    """The guest changes the booking at the OTA: a `modified` revision."""
    async with state.lock:
        return _summary(modify_booking(state, booking_id, changes))


@router.post("/bookings/{booking_id}/cancel")
async def simulate_cancellation(booking_id: str, state: StateDep) -> Json:
    """The guest cancels at the OTA: a `cancelled` revision."""
    async with state.lock:
        return _summary(cancel_booking(state, booking_id))


@router.post("/properties/{property_id}/channels", status_code=201)
async def connect_channel(property_id: str, request: ChannelConnection, state: StateDep) -> Json:
    """The hotel connects an OTA: an active channel mapping the rate plans."""
    async with state.lock:
        prop = state.store.properties.get(property_id)
        if prop is None:
            raise not_found()
        plans = [p for p in state.store.rate_plans.values() if p.property_id == property_id]
        if request.rate_plan_ids is not None:
            if unknown := set(request.rate_plan_ids) - {p.id for p in plans}:
                raise validation_error({"rate_plan_ids": [f"{sorted(unknown)[0]} is invalid"]})
            plans = [p for p in plans if p.id in request.rate_plan_ids]
        title = request.title or f"{request.channel} {prop.attrs['title']}"
        mappings = [{"rate_plan_id": p.id, "settings": {}} for p in plans]
        channel = create_channel(state, prop, request.channel, title, request.settings, mappings)
        set_active(state, channel, True)
        return {"data": channel_item(channel)}


@router.post("/properties/{property_id}/channels/{channel_id}/disconnect")
async def disconnect_channel(property_id: str, channel_id: str, state: StateDep) -> Json:
    """The hotel disconnects the OTA: the channel goes inactive (`disconnect_channel`)."""
    async with state.lock:
        channel = get_channel(state, channel_id)
        if property_id not in channel.property_ids:
            raise not_found()
        channel.attrs["is_active"] = False
        payload = {
            "title": channel.attrs["title"],
            "channel_id": channel.id,
            "ota_name": channel.attrs["channel"],
        }
        fire_event(state, ("disconnect_channel",), property_id, payload)
        return {"data": channel_item(channel)}


class ChannelTrouble(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(pattern="^(sync_error|channel_removal_warning)$")
    error_type: str = Field(default="invalid_rate_plan_mapping", max_length=100)


@router.post("/properties/{property_id}/channels/{channel_id}/trouble")
async def channel_trouble(
    property_id: str, channel_id: str, request: ChannelTrouble, state: StateDep
) -> Json:
    """The OTA reports a sync error, or Channex warns that it will delete an inactive channel
    (`sync_error` / `channel_removal_warning`, channex-api.md §8.3); the channel is unchanged."""
    async with state.lock:
        channel = get_channel(state, channel_id)
        if property_id not in channel.property_ids:
            raise not_found()
        payload: Json = {"title": channel.attrs["title"], "channel_id": channel.id,
                         "ota_name": channel.attrs["channel"]}  # fmt: skip
        if request.event == "sync_error":
            payload |= {"channel": channel.attrs["channel"], "channel_event_id": new_id(),
                        "channel_name": channel.attrs["title"],
                        "error_type": request.error_type}  # fmt: skip
        fire_event(state, (request.event,), property_id, payload)
        return {"data": channel_item(channel)}
