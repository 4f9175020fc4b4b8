"""`channel.state_changed` pushed to the PMS, through the endpoint and signing of bookings.

A table of its own (`channel_delivery`) rather than `booking_delivery`, which is keyed by a
booking revision: one row per state change per endpoint, holding the channel as it was at the
change, sent in `sequence` order per channel (n+1 waits while n is retried) and retried on the
bookings' schedule (app/domain/delivery.py). Unlike a revision, each one carries the whole
state: one whose retries are spent is given up (`failed`) and the next one goes out, since it
says everything the lost one did. A 410 disables the endpoint, as for bookings.
The endpoint's probe and drain (app/services/delivery_probe.py) follow booking deliveries
only: a channel delivery waits for its own next retry, or the sweep.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.metrics import DELIVERIES
from app.models import Channel, ChannelDelivery, PmsEndpoint, Property
from app.models.bookings import DeliveryStatus
from app.schemas import ChannelRead, ChannelStateDelivery
from app.services.channel_state import channel_read
from app.services.delivery import disable_gone, endpoint_for, post_delivery, schedule_retry
from app.settings import Settings

log = logging.getLogger(__name__)

EVENT = "channel.state_changed"


async def queue_state_delivery(
    session: AsyncSession, settings: Settings, row: Channel, prop: Property
) -> tuple[int, int] | None:
    """The change's delivery row, if the organization has an endpoint: (endpoint, channel)
    for the caller to ask the delivery job for after the commit."""
    endpoint = await endpoint_for(session, settings, prop.organization_id)
    if endpoint is None or not endpoint.channel_events:
        return None  # not subscribed: GET channels still answers the state
    await session.flush()  # the channel's id, its updated_at
    read = await channel_read(session, row)
    row.last_sequence += 1
    session.add(
        ChannelDelivery(
            message_id="msg_" + uuid.uuid4().hex,
            channel_id=row.id,
            endpoint_id=endpoint.id,
            sequence=row.last_sequence,
            data={
                "property_id": prop.pms_property_id,
                "channel": read.model_dump(mode="json", by_alias=True),
            },
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=utcnow(),
        )
    )
    await session.flush()
    return endpoint.id, row.id


def delivery_body(delivery: ChannelDelivery) -> str:
    payload = ChannelStateDelivery(
        type=EVENT,
        delivery_id=delivery.message_id,
        sequence=delivery.sequence,
        property_id=delivery.data["property_id"],
        data=ChannelRead.model_validate(delivery.data["channel"]),
    )
    return json.dumps(payload.model_dump(mode="json", by_alias=True), separators=(",", ":"))


@dataclass(frozen=True)
class ChannelStep:
    sent: bool = False
    defer: float | None = None  # the next one is due in that many seconds


async def deliver_state_step(
    session: AsyncSession,
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    endpoint_id: int,
    channel_pk: int,
) -> ChannelStep:
    """Send the channel's oldest undelivered state change to the endpoint, if it is due."""
    endpoint = await session.get(PmsEndpoint, endpoint_id)
    stmt = (
        select(ChannelDelivery)
        .where(
            ChannelDelivery.endpoint_id == endpoint_id,
            ChannelDelivery.channel_id == channel_pk,
            ChannelDelivery.status == DeliveryStatus.PENDING,
        )
        .order_by(ChannelDelivery.sequence)
        .limit(1)
    )
    delivery = (await session.execute(stmt)).scalar_one_or_none()
    if endpoint is None or delivery is None or endpoint.disabled_at is not None:
        return ChannelStep()
    wait = (delivery.next_attempt_at - utcnow()).total_seconds()
    if wait > 0:
        return ChannelStep(defer=wait)
    status, retry_after, error = await post_delivery(
        http, settings, endpoint, delivery, delivery_body(delivery)
    )
    delivery.attempts += 1
    delivery.last_status_code = status
    if status is not None and 200 <= status < 300:
        DELIVERIES.labels("delivered").inc()
        delivery.status, delivery.delivered_at, delivery.last_error = (
            DeliveryStatus.DELIVERED, utcnow(), None)  # fmt: skip
        await session.flush()
        return ChannelStep(sent=True)
    delivery.last_error = error
    fields = {"endpoint": endpoint.id, "status": status, "error": error,
              "attempt": delivery.attempts, "channel": channel_pk}  # fmt: skip
    if status == 410:
        await disable_gone(session, endpoint, fields)
        return ChannelStep()
    delay = await schedule_retry(session, delivery, retry_after, "channel state delivery", fields)
    return ChannelStep(defer=delay)


async def due_state_deliveries(session: AsyncSession, limit: int = 1000) -> list[tuple[int, int]]:
    """(endpoint id, channel id) pairs with a pending state delivery due now."""
    stmt = (
        select(ChannelDelivery.endpoint_id, ChannelDelivery.channel_id)
        .join(PmsEndpoint, ChannelDelivery.endpoint_id == PmsEndpoint.id)
        .where(
            ChannelDelivery.status == DeliveryStatus.PENDING,
            ChannelDelivery.next_attempt_at <= utcnow(),
            PmsEndpoint.disabled_at.is_(None),
        )
        .distinct()
        .limit(limit)
    )
    return [(e, c) for e, c in (await session.execute(stmt)).all()]
