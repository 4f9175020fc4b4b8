"""Channel events keep the property's channel rows and their state in step (channex-api.md
§8.3, §9.2); a go-live and each change of state follow from them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.domain.channel_state import SYNC_ERROR_EVENT, apply_event, sync_error_text
from app.models import Channel, Property, WebhookEvent
from app.services.channel_delivery import queue_state_delivery
from app.services.channel_state import facts_of, go_live, state_changed, store_facts
from app.services.rows import insert_ignore
from app.settings import Settings


@dataclass(frozen=True)
class ChannelChange:
    """A channel that just became active: the property needs a full ARI sync and an import."""

    property_id: int
    channex_channel_id: str


@dataclass(frozen=True)
class ChannelOutcome:
    """What a channel event did: a connection to act on, state deliveries to send, or why it
    was ignored."""

    change: ChannelChange | None = None
    ignored: str | None = None
    deliveries: tuple[tuple[int, int], ...] = ()


def _payload(event: WebhookEvent) -> dict[str, Any]:
    try:
        body = json.loads(event.body)
    except ValueError:
        return {}
    payload = body.get("payload") if isinstance(body, dict) else None
    return payload if isinstance(payload, dict) else {}


async def insert_channel(
    session: AsyncSession, property_pk: int, channex_channel_id: str, code: str
) -> None:
    """The channel's row, inactive, unless it exists: the webhook job and a read of the
    property's channels may insert it at the same moment."""
    now = utcnow()
    values = {
        "property_id": property_pk,
        "channex_channel_id": channex_channel_id,
        "channel": code,
        "is_active": False,
        "state": "pending",
        "ever_live": False,
        "removal_warning": False,
        "last_sequence": 0,
        "created_at": now,
        "updated_at": now,
    }
    await insert_ignore(session, Channel, values)


async def handle_channel_event(
    session: AsyncSession, settings: Settings, event: WebhookEvent
) -> ChannelOutcome:
    """Upsert the channel row and its facts; a ChannelChange when it went from inactive to
    active, a delivery when its state changed. A global webhook also reports properties that
    are not ours: those events are ignored, marked."""
    payload = _payload(event)
    channel_id = payload.get("channel_id")
    if not isinstance(channel_id, str) or event.channex_property_id is None:
        return ChannelOutcome(ignored="no channel_id or property_id in the payload")
    stmt = select(Property).where(Property.channex_property_id == event.channex_property_id)
    prop = (await session.execute(stmt)).scalar_one_or_none()
    if prop is None:
        return ChannelOutcome(ignored="unknown property")
    code = str(payload.get("ota_name") or payload.get("channel") or "unknown")[:40]
    await insert_channel(session, prop.id, channel_id, code)
    found = select(Channel).where(
        Channel.property_id == prop.id, Channel.channex_channel_id == channel_id
    )
    channel = (await session.execute(found)).scalar_one()
    if isinstance(payload.get("title"), str):
        channel.title = payload["title"][:255]
    was_active = channel.is_active
    error = sync_error_text(payload) if event.event == SYNC_ERROR_EVENT else None
    store_facts(channel, apply_event(facts_of(channel), event.event, error))
    change = None
    if channel.is_active and not was_active:
        await go_live(session, channel)
        change = ChannelChange(prop.id, channel_id)
    deliveries: tuple[tuple[int, int], ...] = ()
    if state_changed(channel):
        queued = await queue_state_delivery(session, settings, channel, prop)
        deliveries = (queued,) if queued else ()
    await session.flush()
    return ChannelOutcome(change=change, deliveries=deliveries)
