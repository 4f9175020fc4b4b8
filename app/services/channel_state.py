"""A channel's state kept true, told to the PMS, and its go-live followed.

Every path that learns something of a channel (a webhook, a read of the property's channels)
updates the facts on its row and calls `settle`: the state is derived again, and a change is
stamped and queued as a `channel.state_changed` delivery (app/services/channel_delivery.py)
in the same transaction, so a change is told exactly when it is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.domain.channel_state import ChannelFacts, ChannelState, channel_state
from app.domain.channel_steps import next_steps
from app.models import Booking, BookingRevision, Channel, FullSync
from app.schemas import ChannelRead, GoLive, GoLiveFullSync, GoLiveImport
from app.services.ari_full_syncs import DONE, FAILED, request_full_sync

IMPORT_REQUESTED, IMPORT_SENT, IMPORT_FAILED = "requested", "sent", "failed"


def facts_of(row: Channel) -> ChannelFacts:
    return ChannelFacts(
        is_active=row.is_active,
        ever_live=row.ever_live,
        last_event=row.last_event,
        error=row.error,
        removal_warning=row.removal_warning,
    )


def store_facts(row: Channel, facts: ChannelFacts) -> None:
    row.is_active, row.ever_live = facts.is_active, facts.ever_live
    row.last_event, row.error = facts.last_event, facts.error
    row.removal_warning = facts.removal_warning


async def go_live(session: AsyncSession, row: Channel) -> None:
    """The channel just became active: owe the property a full ARI sync (Channex must hold
    every cell, pending ones included, before the OTA sells from it) and request the import
    of the OTA's existing bookings; the caller queues both jobs after the commit."""
    full_sync = await request_full_sync(session, row.property_id)
    now = utcnow()
    row.went_live_at, row.full_sync_id = now, full_sync.id
    row.import_state, row.import_requested_at = IMPORT_REQUESTED, now
    row.import_sent_at = row.import_error = None


def state_changed(row: Channel) -> bool:
    """Derive the state from the facts; True (and stamped) when it changed, or was never
    stamped (a new channel: its `pending` is news to the PMS too)."""
    state = channel_state(facts_of(row))
    if state == row.state and row.state_changed_at is not None:
        return False
    row.state, row.state_changed_at = state, utcnow()
    return True


async def mark_import(
    session: AsyncSession, channex_channel_id: str, state: str, error: str | None = None
) -> None:
    """The import's outcome on every row of the channel (one per property it serves)."""
    stmt = select(Channel).where(
        Channel.channex_channel_id == channex_channel_id, Channel.import_state.is_not(None)
    )
    for row in (await session.execute(stmt)).scalars():
        row.import_state, row.import_error = state, error
        row.import_sent_at = utcnow() if state == IMPORT_SENT else row.import_sent_at
    await session.flush()


async def _bookings_since(session: AsyncSession, row: Channel, since: datetime | None) -> int:
    """Bookings of the channel (their revisions' `channel_id`) first received since `since`."""
    if since is None:
        return 0
    stmt = (
        select(func.count(func.distinct(Booking.id)))
        .join(BookingRevision, BookingRevision.booking_id == Booking.id)
        .where(
            Booking.property_id == row.property_id,
            Booking.created_at >= since,
            BookingRevision.data["channel_id"].as_string() == row.channex_channel_id,
        )
    )
    return int((await session.execute(stmt)).scalar_one())


def _full_sync_state(full_sync: FullSync | None) -> GoLiveFullSync:
    if full_sync is None:
        return GoLiveFullSync(state=None, requested_at=None, finished_at=None)
    state = {DONE: "done", FAILED: "failed"}.get(full_sync.state, "owed")
    return GoLiveFullSync(
        state=state,
        requested_at=full_sync.requested_at,
        finished_at=full_sync.finished_at,
    )


async def channel_read(session: AsyncSession, row: Channel) -> ChannelRead:
    """The channel as the PMS sees it (GET channels, and each state_changed delivery)."""
    full_sync = await session.get(FullSync, row.full_sync_id) if row.full_sync_id else None
    state = ChannelState(row.state)
    return ChannelRead(
        channex_channel_id=row.channex_channel_id,
        channel=row.channel,
        title=row.title,
        is_active=row.is_active,
        state=state,
        state_changed_at=row.state_changed_at,
        last_event=row.last_event,
        error=row.error,
        next_steps=next_steps(row.channel, state, row.hotel_id, row.error),
        go_live=GoLive(
            went_live_at=row.went_live_at,
            full_sync=_full_sync_state(full_sync),
            import_=GoLiveImport(
                state=row.import_state,
                requested_at=row.import_requested_at,
                sent_at=row.import_sent_at,
                error=row.import_error,
                bookings_received=await _bookings_since(session, row, row.import_requested_at),
            ),
        ),
        updated_at=row.updated_at or utcnow(),
    )
