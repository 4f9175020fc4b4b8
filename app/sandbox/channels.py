"""Channels: list, read, activate, deactivate, delete, execute actions (channex-api.md §9.2)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.sandbox.delivery import fire_event
from app.sandbox.deps import StateDep
from app.sandbox.errors import ChannexError, not_found, validation_error
from app.sandbox.jsonapi import Json, filter_values, item, page, ref, success
from app.sandbox.reservations import load_future_reservations
from app.sandbox.state import Channel, SandboxState

router = APIRouter()

ACTIONS = {"BookingCom", "Expedia", "AirBNB"}


def channel_item(channel: Channel) -> Json:
    relationships = {
        "group": {"data": ref("group", channel.group_id)},
        "properties": {"data": [ref("property", p) for p in channel.property_ids]},
    }
    attributes = {**channel.attrs, "properties": list(channel.property_ids)}
    return item("channel", channel.id, attributes, relationships)


def get_channel(state: SandboxState, channel_id: str) -> Channel:
    channel = state.store.channels.get(channel_id)
    if channel is None:
        raise not_found()
    return channel


def set_active(state: SandboxState, channel: Channel, active: bool) -> None:
    """Switch a channel and tell the webhooks (`activate_channel` / `deactivate_channel`)."""
    channel.attrs["is_active"] = active
    payload = {
        "title": channel.attrs["title"],
        "channel_id": channel.id,
        "ota_name": channel.attrs["channel"],
    }
    event = "activate_channel" if active else "deactivate_channel"
    for property_id in channel.property_ids:
        fire_event(state, (event,), property_id, payload)


@router.get("/channels")
async def list_channels(request: Request, state: StateDep) -> Json:
    """List channel connections (filter `property_id`), by title."""
    wanted = filter_values(request, "property_id")
    channels = [
        c
        for c in state.store.channels.values()
        if wanted is None or set(wanted) & set(c.property_ids)
    ]
    channels.sort(key=lambda c: str(c.attrs["title"]))
    return page(request, [channel_item(c) for c in channels])


@router.get("/channels/{channel_id}")
async def read_channel(channel_id: str, state: StateDep) -> Json:
    """One channel connection."""
    return {"data": channel_item(get_channel(state, channel_id))}


@router.post("/channels/{channel_id}/activate")
async def activate_channel(channel_id: str, state: StateDep) -> Json:
    """Activate a channel; it needs at least one mapped rate plan (§9.2)."""
    async with state.lock:
        channel = get_channel(state, channel_id)
        if not channel.attrs["rate_plans"]:
            raise validation_error({"rate_plans": ["can't be blank"]})
        set_active(state, channel, True)
        return success()


@router.post("/channels/{channel_id}/deactivate")
async def deactivate_channel(channel_id: str, state: StateDep) -> Json:
    """Deactivate a channel."""
    async with state.lock:
        set_active(state, get_channel(state, channel_id), False)
        return success()


@router.delete("/channels/{channel_id}")
async def delete_channel(channel_id: str, state: StateDep) -> Json:
    """Delete an inactive channel; bookings are kept (§9.2)."""
    async with state.lock:
        channel = get_channel(state, channel_id)
        if channel.attrs["is_active"]:
            raise validation_error({"channel": ["is active"]})
        del state.store.channels[channel_id]
        return success()


@router.post("/channels/{channel_id}/execute/{action}")
async def execute_channel_action(channel_id: str, action: str, state: StateDep) -> Json:
    """Run an OTA action; `load_future_reservations` brings pre-existing reservations (§7.3)."""
    async with state.lock:
        channel = get_channel(state, channel_id)
        if action != "load_future_reservations" or channel.attrs["channel"] not in ACTIONS:
            raise ChannexError(422, "method_not_supported", "Method Not Supported")
        load_future_reservations(state, channel)
        return success()
