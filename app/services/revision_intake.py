"""Booking revisions from Channex into the database, then acknowledged, in the order that keeps
every booking: apply a revision and COMMIT, then ack it to Channex (channex-api.md §7.3).

A failed ack is retried by the reconciliation: the revision stays in Channex's feed, and
applying it again is a no-op. A revision that cannot be applied (poison: anything the data
itself makes fail) is quarantined with its reason and acked, so that it never blocks the feed;
the API re-applies it once the cause is fixed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.channex.errors import ChannexError
from app.channex.schemas import BookingRevision as ChannexRevision
from app.channex.schemas import MalformedItem
from app.db import lock_given_up, utcnow
from app.metrics import REVISIONS, count_revision
from app.models import BookingRevision
from app.services.delivery import due_deliveries
from app.services.revision_sources import failure_reason, quarantine, quarantine_malformed
from app.services.revisions import apply_revision
from app.settings import Settings

log = logging.getLogger(__name__)

# The database is away, not the data at fault: the job fails and runs again, nothing is
# quarantined.
TRANSIENT_DB = (OperationalError, InterfaceError)

Sessions = async_sessionmaker[AsyncSession]

# Acks in flight at once: each waits on Channex (50 ms and more), none costs much CPU. The
# client's rate limiter still spaces them within the account's budget.
ACK_CONCURRENCY = 16


@dataclass
class Applied:
    """What a batch of revisions came to: how many Channex acked, and the bookings they
    touched (whose deliveries to the PMS are then due)."""

    acks: int = 0
    booking_ids: list[int] = field(default_factory=list)

    def __iadd__(self, other: Applied) -> Applied:
        self.acks += other.acks
        self.booking_ids += other.booking_ids
        return self


async def apply_and_ack(
    sessions: Sessions,
    settings: Settings,
    channex: ChannexClient,
    revisions: Sequence[ChannexRevision],
    deadline: float | None = None,
) -> Applied:
    """Apply each revision in its own transaction, commit, then ack it; quarantine poison.
    Stops before the next revision once `deadline` (time.monotonic) has passed."""
    applied = Applied()
    for rev in revisions:
        if deadline is not None and time.monotonic() > deadline:
            break
        acked = False
        async with sessions() as session:
            try:
                outcome = await apply_revision(session, settings, rev)
                await session.commit()
                if outcome.created:
                    count_revision(outcome.revision.flags)
                applied.booking_ids.append(outcome.revision.booking_id)
                acked = outcome.revision.acked_at is not None
            except TRANSIENT_DB:
                raise
            except Exception as exc:  # poison: anything the data itself makes fail
                if lock_given_up(exc):
                    raise  # a deadlock is no poison: the job runs again, nothing quarantined
                await session.rollback()
                reason = failure_reason(exc)
                log.error(
                    "booking revision cannot be applied",
                    extra={"revision": rev.id, "reason": reason},
                )
                await _quarantine(sessions, settings, rev.id, reason, rev)
        if not acked:  # acking twice is harmless, but costs a request
            applied.acks += await ack(sessions, channex, rev.id)
    return applied


async def quarantine_and_ack(
    sessions: Sessions,
    settings: Settings,
    channex: ChannexClient,
    malformed: Sequence[MalformedItem],
) -> int:
    """Feed entries that do not parse are kept with why, then acked: never retried forever,
    re-applied by API once Channex serves them correctly. Returns how many were acked."""
    acks = 0
    for item in malformed:
        async with sessions() as session:
            await quarantine_malformed(session, settings, item)
            await session.commit()
        REVISIONS.labels("quarantined").inc()
        acks += await ack(sessions, channex, item.id)
    return acks


async def quarantine_unreadable(
    sessions: Sessions, settings: Settings, channex: ChannexClient, revision_id: str, why: str
) -> None:
    """A revision Channex refuses to serve: kept with why (to re-apply by API), then acked."""
    await _quarantine(sessions, settings, revision_id, f"unreadable revision: {why}", None)
    await ack(sessions, channex, revision_id)


async def ack(sessions: Sessions, channex: ChannexClient, revision_id: str) -> bool:
    """Ack by REVISION id (§7.2), only ever after the commit; twice is harmless. False when
    Channex refused it."""
    return await ack_all(sessions, channex, [revision_id]) == 1


async def ack_all(sessions: Sessions, channex: ChannexClient, revision_ids: Sequence[str]) -> int:
    """Ack every revision by its id (committed before this is called; twice is harmless),
    ACK_CONCURRENCY at a time, then record acked_at of those Channex took in one UPDATE.
    Returns how many it took."""
    if not revision_ids:
        return 0
    gate = asyncio.Semaphore(ACK_CONCURRENCY)
    prepaid = await channex.prepay(len(revision_ids))  # one limiter round trip for all

    async def one(revision_id: str) -> bool:
        async with gate:
            try:
                await channex.ack_booking_revision(revision_id, prepaid=prepaid)
            except ChannexError as exc:
                # Still in Channex's feed: the next reconciliation applies (no-op) and acks.
                log.warning(
                    "ack failed, reconciliation will retry", extra={"revision": revision_id}
                )
                log.debug("ack failure: %r", exc)
                return False
            return True

    taken = await asyncio.gather(*(one(rid) for rid in revision_ids))
    acked = [rid for rid, ok in zip(revision_ids, taken, strict=True) if ok]
    if acked:
        async with sessions() as session:
            await session.execute(
                update(BookingRevision)
                .where(
                    BookingRevision.channex_revision_id.in_(acked),
                    BookingRevision.acked_at.is_(None),
                )
                .values(acked_at=utcnow())
            )
            await session.commit()
    return len(acked)


async def deliveries_due(sessions: Sessions, booking_ids: Sequence[int]) -> list[tuple[int, int]]:
    """The (endpoint, booking) pairs with something to deliver, among these bookings."""
    if not booking_ids:
        return []
    async with sessions() as session:
        return list(await due_deliveries(session, booking_ids=sorted(set(booking_ids))))


async def _quarantine(
    sessions: Sessions,
    settings: Settings,
    revision_id: str,
    reason: str,
    rev: ChannexRevision | None,
) -> None:
    async with sessions() as session:
        await quarantine(session, settings, revision_id, reason, rev)
        await session.commit()
    REVISIONS.labels("quarantined").inc()
