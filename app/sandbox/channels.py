"""Channels: create, list, read, activate, deactivate, delete, execute actions
(channex-api.md §9.2). `create_channel` is the one way a channel comes to be: the Channel API
here, the iframe (iframe.py) and the OTA simulator (simulator.py) all use it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.sandbox.delivery import fire_event
from app.sandbox.deps import BodyDep, StateDep
from app.sandbox.errors import ChannexError, not_found, validation_error
from app.sandbox.jsonapi import Json, filter_values, item, page, ref, success, unwrap
from app.sandbox.reservations import load_future_reservations
from app.sandbox.state import Channel, Property, SandboxState, new_id
from app.sandbox.validate import BLANK, INVALID, Checker

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


def create_channel(
    state: SandboxState,
    prop: Property,
    code: str,
    title: str,
    settings: dict[str, Any],
    mappings: list[dict[str, Any]],
    group_id: str | None = None,
) -> Channel:
    """A new channel of one property, inactive as Channex creates them (§9.2): `new_channel`.
    Each mapping is `{rate_plan_id, settings}`; it gets its own id here."""
    attrs = {
        "title": title,
        "channel": code,
        "currency": prop.attrs["currency"],
        "is_active": False,
        "settings": settings,
        "rate_plans": [{**m, "id": new_id()} for m in mappings],
    }
    channel = Channel(new_id(), group_id or prop.group_ids[0], [prop.id], attrs)
    state.store.channels[channel.id] = channel
    payload = {"title": title, "channel_id": channel.id, "ota_name": code}
    fire_event(state, ("new_channel",), prop.id, payload)
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


@router.post("/channels", status_code=201)
async def create_channel_route(body: BodyDep, state: StateDep) -> Json:
    """Create a channel (the Channel API of a white-label account, §9.2): inactive until
    activated; its group, properties and mapped rate plans must exist."""
    attrs = unwrap(body, "channel")
    checker = Checker(attrs)
    checker.text("channel", required=True)
    checker.text("group_id", required=True)
    checker.text("title")
    group_id = attrs.get("group_id")
    if isinstance(group_id, str) and group_id and group_id not in state.store.groups:
        checker.add("group_id", INVALID)
    async with state.lock:
        props = _properties(state, checker, attrs.get("properties"), group_id)
        mappings = _mappings(state, checker, attrs.get("rate_plans"), props)
        settings = attrs.get("settings") or {}
        if not isinstance(settings, dict):
            checker.add("settings", INVALID)
        if checker.errors:
            raise validation_error(checker.errors)
        prop = props[0]
        title = attrs.get("title") or f"{attrs['channel']} {prop.attrs['title']}"
        channel = create_channel(
            state, prop, str(attrs["channel"]), title, settings, mappings, str(group_id)
        )
        channel.property_ids = [p.id for p in props]
        return {"data": channel_item(channel)}


def _properties(state: SandboxState, checker: Checker, value: Any, group_id: Any) -> list[Property]:
    """The channel's properties: known ones of its group, at least one."""
    if not isinstance(value, list) or not value:
        checker.add("properties", BLANK)
        return []
    found = [state.store.properties.get(p) if isinstance(p, str) else None for p in value]
    props = [p for p in found if p is not None and group_id in p.group_ids]
    if len(props) != len(value):
        checker.add("properties", INVALID)
    return props


def _mappings(
    state: SandboxState, checker: Checker, value: Any, props: list[Property]
) -> list[dict[str, Any]]:
    """`rate_plans[]`: each `{rate_plan_id, settings}` naming a rate plan of its properties."""
    if value is None:
        return []
    ids = {p.id for p in props}
    mappings: list[dict[str, Any]] = []
    for entry in value if isinstance(value, list) else [None]:
        plan_id = entry.get("rate_plan_id") if isinstance(entry, dict) else None
        plan = state.store.rate_plans.get(plan_id) if isinstance(plan_id, str) else None
        settings = entry.get("settings", {}) if isinstance(entry, dict) else None
        if plan is None or plan.property_id not in ids or not isinstance(settings, dict):
            checker.add("rate_plans", INVALID)
            continue
        mappings.append({"rate_plan_id": plan.id, "settings": settings})
    return mappings


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
