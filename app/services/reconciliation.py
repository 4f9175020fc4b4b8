"""Reconciliation with Channex's feed of unacknowledged revisions (channex-api.md §7.3, §7.4):
the safety net for webhooks that never came. A round reads the feed's first page, applies and
acks what it holds; acked revisions leave the feed, so the next page of the round is the
feed's (new) first page again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.channex.errors import TRANSIENT_ERRORS
from app.models import Property
from app.services.revision_intake import Applied, Sessions, apply_and_ack, quarantine_and_ack
from app.services.webhook_registration import marker_due, touch_marker
from app.settings import Settings

log = logging.getLogger(__name__)

RECONCILE_MARKER = "reconcile"


@dataclass(frozen=True)
class Page:
    """One feed page's outcome; `go_on` when the round should read another page."""

    applied: Applied
    go_on: bool


async def reconcile_due(sessions: Sessions, settings: Settings, *, force: bool) -> bool:
    """Start a round when forced or when the interval has passed (and note the start)."""
    interval = settings.booking_reconcile_interval_seconds
    async with sessions() as session:
        if not force and not await marker_due(session, RECONCILE_MARKER, interval):
            return False
        await touch_marker(session, RECONCILE_MARKER)
        await session.commit()
    return True


async def reconcile_page(
    sessions: Sessions, settings: Settings, channex: ChannexClient, *, budget_seconds: float
) -> Page | None:
    """Apply and ack the feed's first page, taking no new revision after `budget_seconds`;
    None when Channex could not be read (the next round retries)."""
    try:
        feed = await channex.read_booking_revision_feed_page(1)
    except TRANSIENT_ERRORS:
        log.warning("feed unavailable; next reconciliation will retry")
        return None
    deadline = time.monotonic() + budget_seconds
    applied = Applied(acks=await quarantine_and_ack(sessions, settings, channex, feed.malformed))
    applied += await apply_and_ack(sessions, settings, channex, feed.revisions, deadline)
    unfinished = feed.more or applied.acks < len(feed.revisions) + len(feed.malformed)
    # A page that acked nothing would read the same page again: the next round retries it.
    return Page(applied, go_on=bool(applied.acks) and unfinished)


async def reconciliation_needed(session: AsyncSession) -> bool:
    """No property in Channex: no booking to look for."""
    stmt = select(Property.id).where(Property.channex_property_id.is_not(None)).limit(1)
    return (await session.execute(stmt)).first() is not None
