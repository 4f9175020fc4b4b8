"""Channel jobs: push `channel.state_changed` to the PMS, and refresh channels from Channex
so that their states stay true when a webhook was lost."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from arq.worker import Retry
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.errors import TRANSIENT_ERRORS, ChannexError
from app.jobs import requests
from app.jobs.context import WorkerContext
from app.jobs.requests import (
    JobRequest,
    request_channel_state_deliveries,
    request_connection_follow_up,
)
from app.models import Property
from app.services.catalog import properties_to_refresh, sync_channels
from app.services.channel_delivery import deliver_state_step, due_state_deliveries

log = logging.getLogger(__name__)

# How often each property's channels are read again, and how many properties a sweep may
# refresh (each costs one Channex read): webhooks keep states current, this repairs them.
CHANNEL_REFRESH_SECONDS = 900.0
MAX_REFRESHES_PER_SWEEP = 20
# A retry further away than this is left to the sweep (as for booking deliveries).
MAX_DEFER_SECONDS = 600.0


async def deliver_channel_state(ctx: WorkerContext, endpoint_id: int, channel_pk: int) -> None:
    """Job: send the channel's pending state changes to the endpoint, oldest first."""
    while True:
        async with ctx["session_factory"]() as session:
            step = await deliver_state_step(
                session, ctx["settings"], ctx["pms_http"],
                endpoint_id=endpoint_id, channel_pk=channel_pk,
            )  # fmt: skip
            await session.commit()
        if not step.sent:
            break
    if step.defer is not None and step.defer <= MAX_DEFER_SECONDS:
        raise Retry(defer=step.defer)


async def refresh_channels(ctx: WorkerContext, property_pk: int) -> None:
    """Job: read the property's channels from Channex; a go-live or a change of state found
    this way is followed up exactly as if its webhook had come."""
    channex = ctx["channex"]
    if channex is None:
        return
    async with ctx["session_factory"]() as session:
        prop = await session.get(Property, property_pk)
        if prop is None or prop.channex_property_id is None:
            return
        try:
            found = await sync_channels(session, ctx["settings"], channex, prop)
        except TRANSIENT_ERRORS:
            log.warning("channel refresh failed; the next sweep retries",
                        extra={"property": property_pk})  # fmt: skip
            return
        except ChannexError as exc:
            log.warning("channel refresh refused: %s", exc, extra={"property": property_pk})
            return
        await session.commit()
    for change in found.activated:
        await request_connection_follow_up(
            ctx["queue"], change.property_id, change.channex_channel_id
        )
    await request_channel_state_deliveries(ctx["queue"], found.deliveries)


async def scan_channels(session: AsyncSession) -> Sequence[JobRequest]:
    """Sweep scanner: state deliveries due, and the properties whose channels to read again."""
    jobs = [requests.channel_state_delivery(e, c) for e, c in await due_state_deliveries(session)]
    stale = await properties_to_refresh(
        session, CHANNEL_REFRESH_SECONDS, limit=MAX_REFRESHES_PER_SWEEP
    )
    jobs += [requests.channels_refresh(pk) for pk in stale]
    return jobs
