"""An OTA connected by the PMS itself, without the iframe, where the Channex account is
white-label: the channel is created through Channex's Channel API with the OTA's hotel id and
a mapping built from our own mappings, then activated (channex-api.md §9.2).

Everything the PMS sent is checked before the first call to Channex, so a refused request
creates nothing there. The channel is then recorded as a read of the property's channels
records it (`catalog.sync_channels`): its state, its go-live and their deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.errors import AppError, FieldError, conflict, invalid
from app.models import Channel, Organization, Property, RatePlan, RoomType, SyncStatus
from app.schemas_channel_session import WHITE_LABEL_ADAPTERS, ChannelCreate, ChannelMappingCreate
from app.services import catalog
from app.services.channel_events import insert_channel
from app.services.rate_plans import find_rate_plan, list_rate_plans
from app.services.room_types import find_room_type, require_synced_property
from app.settings import Settings

OTA_NAMES = {"BDC": "Booking.com", "EXP": "Expedia"}


@dataclass(frozen=True)
class Connected:
    """The new channel's row, and the read of the property's channels that recorded it."""

    channel: Channel
    found: catalog.ChannelSync


def require_white_label(settings: Settings) -> None:
    """403 unless the operator said the Channex account may create channels (white-label):
    other accounts would be refused by Channex, after we had checked and sent everything."""
    if not settings.channex_white_label:
        raise AppError(
            403, "white_label_disabled", "Forbidden",
            "connecting an OTA without the iframe needs a white-label Channex account "
            "(CHANNEX_WHITE_LABEL); use POST .../channels/session",
        )  # fmt: skip


def _occupancy(rate_plan: RatePlan) -> int | None:
    """The occupancy the OTA sells the plan at: its primary option's (its only one per room)."""
    primary = [o for o in rate_plan.options if o.get("is_primary")] or rate_plan.options
    return int(primary[0]["occupancy"]) if primary else None


def _entry(rate_plan: RatePlan, room_code: str, rate_code: str) -> dict[str, Any]:
    settings: dict[str, Any] = {"room_type_code": room_code, "rate_plan_code": rate_code}
    if (occupancy := _occupancy(rate_plan)) is not None:
        settings["occupancy"] = occupancy
    return {"rate_plan_id": rate_plan.channex_rate_plan_id, "settings": settings}


def _in_channex(item: RoomType | RatePlan) -> bool:
    return item.sync_status == SyncStatus.SYNCED


async def _mapped_plan(
    session: AsyncSession, prop: Property, wanted: ChannelMappingCreate
) -> RatePlan | None:
    room_type = await find_room_type(session, prop.id, wanted.room_type_id)
    if room_type is None:
        return None
    rate_plan = await find_rate_plan(session, room_type.id, wanted.rate_plan_id)
    if rate_plan is None or rate_plan.channex_rate_plan_id is None or not _in_channex(rate_plan):
        return None
    return rate_plan


async def channel_mappings(
    session: AsyncSession, prop: Property, wanted: list[ChannelMappingCreate] | None
) -> list[dict[str, Any]]:
    """Channex's `rate_plans[]` of the channel, from our ids to Channex's; 422 naming each
    PMS id that is unknown or not in Channex."""
    if wanted is None:
        # No mapping sent: every plan in Channex, coded by its PMS ids.
        entries = [
            _entry(plan, room_type_id, plan.pms_rate_plan_id)
            for plan, room_type_id in await list_rate_plans(session, prop.id)
            if plan.channex_rate_plan_id is not None and _in_channex(plan)
        ]
        if not entries:
            raise invalid(
                "the property has no rate plan in Channex to map",
                [FieldError("body.mappings", "no rate plan is in Channex yet", "unmapped")],
            )
        return entries
    entries, errors = [], []
    for index, item in enumerate(wanted):
        rate_plan = await _mapped_plan(session, prop, item)
        if rate_plan is None:
            message = f"rate plan {item.rate_plan_id!r} of room type {item.room_type_id!r} is "
            message += "unknown or not in Channex yet"
            errors.append(FieldError(f"body.mappings.{index}.rate_plan_id", message, "unmapped"))
            continue
        entries.append(_entry(rate_plan, item.ota_room_code, item.ota_rate_code))
    if errors:
        raise invalid("some mappings name no rate plan in Channex", errors)
    return entries


async def connect_channel(
    session: AsyncSession,
    settings: Settings,
    channex: ChannexClient,
    prop: Property,
    body: ChannelCreate,
) -> Connected:
    """Create the channel in Channex, activate it, and record it; the caller commits and
    queues the follow-up jobs (`found.activated`, `found.deliveries`). The row is committed
    once the channel exists in Channex, before the activation: a failure after that never
    leaves a channel in Channex that we do not know of."""
    require_white_label(settings)
    channex_property_id = require_synced_property(prop)
    org = await session.get(Organization, prop.organization_id)
    if org is None or org.channex_group_id is None:
        raise conflict("organization_not_synced", "the organization has no Channex group yet")
    rate_plans = await channel_mappings(session, prop, body.mappings)
    attrs = {
        "channel": WHITE_LABEL_ADAPTERS[body.ota],
        "group_id": org.channex_group_id,
        "title": body.title or f"{OTA_NAMES[body.ota]} {prop.title}",
        "properties": [channex_property_id],
        "settings": {"hotel_id": body.hotel_id},
        "rate_plans": rate_plans,
    }
    created = await channex.create_channel(attrs)
    # Recorded before activating: should the activation fail, the channel stays in Channex,
    # inactive, and is known here (pending after the next read of the channels).
    await insert_channel(session, prop.id, created.id, created.channel)
    await session.commit()
    await channex.activate_channel(created.id)
    # Kept even if Channex's list does not show it yet: the row is there.
    found = await catalog.sync_channels(session, settings, channex, prop)
    row = next(r for r in found.channels if r.channex_channel_id == created.id)
    return Connected(row, found)
