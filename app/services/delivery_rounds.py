"""An endpoint's due deliveries in rounds: the next revision of up to `size` bookings, claimed
in one statement, POSTed side by side, and recorded in one transaction.

Sending one booking's revisions at a time cost two transactions and some nine database round
trips per revision (benchmarks/bookings_speed.py); a round costs about as much for all of its
revisions. The guarantees are those of app/services/delivery.py: each claimed revision is
the next of its booking (n+1 only once n is delivered) and is held under a committed lease
before it is sent, so that a booking's own job, a probe and another drain never send it too.
A round's POSTs run side by side, so the round ends within one delivery timeout of its claim,
inside the lease.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import lock_given_up, utcnow
from app.models import BookingDelivery, BookingRevision, PmsEndpoint
from app.models.bookings import DeliveryStatus
from app.services.booking_payloads import as_row, revision_query
from app.services.delivery import (
    LEASE_MARGIN_SECONDS,
    bring_forward,
    encode_body,
    mark_delivered,
    next_of_its_booking,
    post_delivery,
    probe_delay,
    record_failure,
)
from app.settings import Settings

# Fresh transactions a round's record gets after it lost a deadlock, before the job's own
# retry (app/jobs/spec.py) takes over.
RECORD_TRIES = 3


@dataclass
class Round:
    """What one round did: `taken` deliveries claimed and sent (0: nothing sendable now), the
    bookings whose failed delivery is tried again `later` (booking id, seconds), `probe_in`
    (an attempt failed: probe the endpoint that soon), `recovered` (a failing endpoint took
    one: its backlog was made due)."""

    taken: int = 0
    later: list[tuple[int, float]] = field(default_factory=list)
    probe_in: float | None = None
    recovered: bool = False


async def send_round(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    http: httpx.AsyncClient,
    endpoint_id: int,
    *,
    size: int,
) -> Round:
    """Claim, send and record the next revision of up to `size` bookings of the endpoint."""
    async with sessions() as session:
        endpoint = await session.get(PmsEndpoint, endpoint_id)
        if endpoint is None or endpoint.disabled_at is not None:
            return Round()
        deliveries = await claim_next(session, settings, endpoint_id, size)
        if not deliveries:
            return Round()
        bodies = await _bodies(session, settings, deliveries)
        answers = await asyncio.gather(
            *(post_delivery(http, settings, endpoint, d, bodies[d.id]) for d in deliveries)
        )
        try:
            done = await _record(session, settings, endpoint, deliveries, answers)
            await session.commit()
            return done
        except DBAPIError as exc:
            if not lock_given_up(exc):
                raise
    # The database chose this record as a deadlock's victim. The PMS has answered; left
    # unrecorded, the sent revisions would wait out their lease and go again: record the
    # same answers in a fresh transaction (the other side has committed or is about to).
    ids, tries = [d.id for d in deliveries], 1
    while True:
        try:
            return await _record_again(sessions, settings, endpoint_id, ids, answers)
        except DBAPIError as exc:
            if not lock_given_up(exc) or tries >= RECORD_TRIES:
                raise
            tries += 1


async def _record_again(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    endpoint_id: int,
    delivery_ids: Sequence[int],
    answers: Sequence[tuple[int | None, float | None, str]],
) -> Round:
    async with sessions() as session:
        endpoint = await session.get(PmsEndpoint, endpoint_id)
        stmt = select(BookingDelivery).where(BookingDelivery.id.in_(delivery_ids))
        found = {d.id: d for d in (await session.execute(stmt)).scalars()}
        if endpoint is None or len(found) != len(delivery_ids):
            return Round(taken=len(delivery_ids))  # gone meanwhile: nothing left to record
        deliveries = [found[i] for i in delivery_ids]
        done = await _record(session, settings, endpoint, deliveries, answers)
        await session.commit()
        return done


def _accepted(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


async def claim_next(
    session: AsyncSession, settings: Settings, endpoint_id: int, size: int
) -> list[BookingDelivery]:
    """Lease the endpoint's oldest due deliveries that are next in their booking's order and
    held by no sender, at most `size`, in one UPDATE; committed before anything is sent. A
    concurrent claimer of the same rows waits for this one's commit, then finds them leased."""
    now = utcnow()
    lease = now + timedelta(seconds=settings.pms_delivery_timeout_seconds + LEASE_MARGIN_SECONDS)
    free = or_(BookingDelivery.lease_until.is_(None), BookingDelivery.lease_until < now)
    heads = (
        select(BookingDelivery.id)
        .where(
            BookingDelivery.endpoint_id == endpoint_id,
            BookingDelivery.status == DeliveryStatus.PENDING,
            BookingDelivery.next_attempt_at <= now,
            free,
            next_of_its_booking(),
        )
        .order_by(BookingDelivery.id)
        .limit(size)
    )
    stmt = (
        update(BookingDelivery)
        .where(
            BookingDelivery.id.in_(heads.scalar_subquery()),
            BookingDelivery.status == DeliveryStatus.PENDING,
            free,
        )
        .values(lease_until=lease)
        .returning(BookingDelivery)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    claimed = list((await session.scalars(stmt)).all())
    await session.commit()
    return sorted(claimed, key=lambda d: d.id)


async def _bodies(
    session: AsyncSession, settings: Settings, deliveries: Sequence[BookingDelivery]
) -> dict[int, str]:
    """Each delivery's signed payload body, read in one query."""
    wanted = [d.revision_id for d in deliveries]
    rows = (await session.execute(revision_query().where(BookingRevision.id.in_(wanted)))).all()
    by_revision = {row[0].id: as_row(row) for row in rows}
    return {d.id: encode_body(settings, d, by_revision[d.revision_id]) for d in deliveries}


async def _record(
    session: AsyncSession,
    settings: Settings,
    endpoint: PmsEndpoint,
    deliveries: Sequence[BookingDelivery],
    answers: Sequence[tuple[int | None, float | None, str]],
) -> Round:
    done = Round(taken=len(deliveries))
    # Judged on the endpoint as the round found it: a failure recorded in this round must
    # not read as a recovery when the next delivery of the round succeeds.
    was_failing = endpoint.failing_since is not None
    sent = [(d, a) for d, a in zip(deliveries, answers, strict=True) if _accepted(a[0])]
    refused = [(d, a) for d, a in zip(deliveries, answers, strict=True) if not _accepted(a[0])]
    for delivery, (status, _, _) in sent:
        delivery.attempts += 1
        delivery.last_status_code = status
        mark_delivered(delivery, endpoint)
        done.recovered = was_failing
    if done.recovered:  # before the failures below, whose next tries keep their schedule
        await bring_forward(session, endpoint.id)
    # Failures last: the endpoint is left failing (and probed) if any attempt failed.
    for delivery, (status, retry_after, error) in refused:
        delivery.attempts += 1
        delivery.last_status_code = status
        step = await record_failure(session, delivery, endpoint, status, retry_after, error)
        if step.defer is not None:
            done.later.append((delivery.booking_id, step.defer))
        if endpoint.disabled_at is None:
            done.probe_in = probe_delay(settings, endpoint)
    await session.flush()
    return done
