"""Booking revisions in batches: many applied in ONE transaction and acked together, for the
throughput a burst of webhooks needs (issue 14); the guarantees stay those of
app/services/revision_intake.py, which applies one revision per transaction.

- Each revision is applied in a SAVEPOINT of its own: a poison one is rolled back alone, and
  quarantined in the same transaction, so it never takes the batch's good revisions with it.
- The batch commits once; only then are its revisions acked (concurrently), and every
  acked_at recorded in one UPDATE. A failed ack leaves the revision in Channex's feed for the
  reconciliation, as a single revision's does.
- Locks are taken in one global order: the ARI state of the properties whose new bookings
  hold availability first (`lock_holds_first`), then the bookings' rows (revisions are
  applied by booking, each booking's in Channex's order, `inserted_at`), the feed counter's
  last (`assign_feed_positions`): two batches, or a batch and a single revision, never
  deadlock on them. Should a deadlock happen all the same, the batch is rolled back and its
  revisions are applied one per transaction instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.channex.schemas import BookingRevision as ChannexRevision
from app.db import lock_given_up
from app.metrics import REVISIONS, count_revision
from app.services.revision_intake import (
    TRANSIENT_DB,
    Applied,
    Sessions,
    ack_all,
    apply_and_ack,
)
from app.services.revision_sets import apply_set, plan_sets, runs
from app.services.revision_sources import failure_reason, quarantine, stored_ids
from app.services.revisions import (
    Batch,
    apply_revision,
    assign_feed_positions,
    begin_batch,
    lock_holds_first,
)
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class BatchApplied:
    """What one batch transaction committed: revisions to ack, those already acked, and the
    bookings whose deliveries may now be due."""

    to_ack: list[str] = field(default_factory=list)
    acked: int = 0
    booking_ids: list[int] = field(default_factory=list)
    created: list[tuple[int, list[str]]] = field(default_factory=list)  # (pk, flags), in order
    quarantined: int = 0


def apply_order(revisions: Sequence[ChannexRevision]) -> list[ChannexRevision]:
    """Each revision once, by booking, each booking's in Channex's order (`inserted_at`)."""
    unique = {rev.id: rev for rev in revisions}
    return sorted(unique.values(), key=lambda r: (r.booking_id, r.inserted_instant(), r.id))


async def apply_and_ack_batch(
    sessions: Sessions,
    settings: Settings,
    channex: ChannexClient,
    revisions: Sequence[ChannexRevision],
) -> Applied:
    """Apply the revisions in one transaction, commit, then ack them; quarantine poison."""
    ordered = apply_order(revisions)
    if not ordered:
        return Applied()
    try:
        batch = await _apply_batch(sessions, settings, ordered)
    except DBAPIError as exc:
        if not lock_given_up(exc):
            raise
        # Rows locked in no known order met another transaction's: one revision per
        # transaction holds far fewer at once, and should it deadlock too, it raises (no
        # quarantine) and the job runs again (app/jobs/spec.py, instrumented).
        log.warning(
            "batch deadlocked, applying its revisions one by one", extra={"n": len(ordered)}
        )
        return await apply_and_ack(sessions, settings, channex, ordered)
    acks = await ack_all(sessions, channex, batch.to_ack)
    return Applied(acks=acks, booking_ids=batch.booking_ids)


async def _apply_batch(
    sessions: Sessions, settings: Settings, ordered: Sequence[ChannexRevision]
) -> BatchApplied:
    batch = BatchApplied()
    async with sessions() as session:
        await begin_batch(session)
        memo = Batch(stored=await stored_ids(session, [rev.id for rev in ordered]))
        await lock_holds_first(session, ordered, memo)
        plans = await plan_sets(session, ordered, memo)
        for run in runs(ordered, plans):
            one_by_one = run
            if run[0].id in plans:  # new revisions, as a set (app/services/revision_sets.py)
                applied = await apply_set(session, settings, [plans[r.id] for r in run], memo)
                for done in applied.created:
                    batch.created.append((done.revision_pk, done.flags))
                    batch.booking_ids.append(done.booking_pk)
                    batch.to_ack.append(done.revision_id)
                one_by_one = applied.rest
            for rev in one_by_one:
                await _apply_one(session, settings, rev, memo, batch)
        await assign_feed_positions(session, [pk for pk, _ in batch.created])
        await session.commit()
    for _, revision_flags in batch.created:
        count_revision(revision_flags)
    if batch.quarantined:
        REVISIONS.labels("quarantined").inc(batch.quarantined)
    return batch


async def _apply_one(
    session: AsyncSession,
    settings: Settings,
    rev: ChannexRevision,
    memo: Batch,
    batch: BatchApplied,
) -> None:
    """One revision in a SAVEPOINT of its own; poison rolled back alone and quarantined."""
    try:
        async with session.begin_nested():
            outcome = await apply_revision(session, settings, rev, batch=memo)
    except TRANSIENT_DB:
        raise
    except Exception as exc:  # poison: anything the data itself makes fail
        if lock_given_up(exc):
            raise  # a deadlock: the batch goes again one revision at a time
        memo.forget()
        await _quarantine_in_batch(session, settings, rev, exc)
        batch.quarantined += 1
        batch.to_ack.append(rev.id)
        return
    row = outcome.revision
    if outcome.created:
        batch.created.append((row.id, row.flags))
    batch.booking_ids.append(row.booking_id)
    if row.acked_at is None:  # acking twice is harmless, but costs a request
        batch.to_ack.append(rev.id)


async def _quarantine_in_batch(
    session: AsyncSession, settings: Settings, rev: ChannexRevision, exc: BaseException
) -> None:
    """The revision's savepoint is rolled back already: keep it with why, in the batch."""
    reason = failure_reason(exc)
    log.error("booking revision cannot be applied", extra={"revision": rev.id, "reason": reason})
    async with session.begin_nested():
        await quarantine(session, settings, rev.id, reason, rev)
