"""Recovery of a failing PMS endpoint: probe it, and drain its backlog once it answers.

Each delivery keeps its own retry schedule (1 s, 15 s, 1 min … 4 days, app/domain/delivery.py),
which is right for one revision the PMS refuses, but after an outage the backlog would wait
for each delivery's next retry, minutes to hours away. So while an endpoint fails, its oldest
pending delivery is sent every `pms_probe_interval_seconds`, whatever its schedule says (but
never before a `Retry-After` the PMS gave). A
failed probe changes nothing of the delivery's schedule (the schedule's length stays what
Standard Webhooks suggests). A probe the PMS accepts makes every pending delivery of the
endpoint due at once, and a drain sends them, several bookings at a time, each booking's
revisions in order. Such a try made early is refused like a probe, at no cost to the
delivery's schedule (`record_failure` in app/services/delivery.py).

The drain is also how new revisions go out (app/jobs/bookings.py): one job per endpoint sends
many bookings' deliveries side by side, in rounds claimed and recorded in one transaction
each (app/services/delivery_rounds.py), rather than one job per booking.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import utcnow
from app.domain.delivery import MAX_RETRY_AFTER
from app.metrics import DELIVERIES
from app.models import BookingDelivery, PmsEndpoint
from app.models.bookings import DeliveryStatus
from app.services.delivery import (
    CLAIMED_RETRY_SECONDS,
    bring_forward,
    claim,
    delivery_body,
    disable_gone,
    mark_delivered,
    next_of_its_booking,
    post_delivery,
)
from app.services.delivery_rounds import send_round
from app.settings import Settings

log = logging.getLogger(__name__)

# Bookings drained side by side: a PMS gets a few requests at a time, not its whole backlog
# at once (per-booking jobs sent up to 10 per worker at once before; benchmarks/bookings_speed.py).
DRAIN_CONCURRENCY = 8


@dataclass(frozen=True)
class Probe:
    """What a probe found: `recovered` (the PMS took it: drain now), or try again in `retry`
    seconds (still failing, or too soon after the last probe); neither: nothing to probe."""

    recovered: bool = False
    retry: float | None = None


async def probe_target(session: AsyncSession, endpoint_id: int) -> BookingDelivery | None:
    """The endpoint's oldest pending delivery that is next in its booking's order (no earlier
    revision of that booking undelivered): sending it can never overtake another."""
    stmt = (
        select(BookingDelivery)
        .where(
            BookingDelivery.endpoint_id == endpoint_id,
            BookingDelivery.status == DeliveryStatus.PENDING,
            next_of_its_booking(),
        )
        .order_by(BookingDelivery.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def probe_endpoint(
    session: AsyncSession, settings: Settings, http: httpx.AsyncClient, endpoint_id: int
) -> Probe:
    """Send the failing endpoint's probe delivery, if one is due. The caller commits."""
    interval = settings.pms_probe_interval_seconds
    endpoint = await session.get(PmsEndpoint, endpoint_id)
    if endpoint is None or endpoint.disabled_at is not None or endpoint.failing_since is None:
        return Probe()
    now = utcnow()
    if endpoint.next_probe_at is not None and endpoint.next_probe_at > now:
        return Probe(retry=(endpoint.next_probe_at - now).total_seconds())
    delivery = await probe_target(session, endpoint_id)
    if delivery is None:
        return Probe()  # nothing deliverable waits: the next failure starts probing again
    if not await claim(session, settings, delivery):
        return Probe(retry=CLAIMED_RETRY_SECONDS)  # its booking's own job is sending it
    body = await delivery_body(session, settings, delivery)
    status, retry_after, error = await post_delivery(http, settings, endpoint, delivery, body)
    fields = {"endpoint": endpoint.id, "status": status, "error": error,
              "revision": delivery.revision_id}  # fmt: skip
    if status is not None and 200 <= status < 300:
        delivery.attempts += 1
        delivery.last_status_code = status
        mark_delivered(delivery, endpoint)
        await bring_forward(session, endpoint_id)
        log.info("PMS endpoint answers again: its backlog is due now", extra=fields)
        return Probe(recovered=True)
    if status == 410:
        delivery.lease_until = None
        await disable_gone(session, endpoint, fields)
        return Probe()
    # At most one probe per interval, and never before a Retry-After the PMS gave.
    wait = max(interval, min(retry_after or 0.0, MAX_RETRY_AFTER))
    delivery.lease_until = None
    endpoint.last_error = error
    endpoint.next_probe_at = now + timedelta(seconds=wait)
    await session.flush()
    DELIVERIES.labels("probe_failed").inc()
    log.info("PMS endpoint probe failed, next probe in %.0f s", wait, extra=fields)
    return Probe(retry=wait)


@dataclass(frozen=True)
class Drained:
    """Where an endpoint's deliveries stand after `drain_endpoint`: `more` (the budget ran
    out with deliveries due: go on at once), the bookings whose failed delivery is tried
    again `later` (booking id, seconds), `probe_in` (an attempt failed: probe the endpoint
    that soon), and `recovered` (a failing endpoint answered: its backlog was made due)."""

    more: bool = False
    later: Sequence[tuple[int, float]] = ()
    probe_in: float | None = None
    recovered: bool = False


async def drain_endpoint(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    http: httpx.AsyncClient,
    endpoint_id: int,
    *,
    budget_seconds: float,
    concurrency: int = DRAIN_CONCURRENCY,
) -> Drained:
    """Send the endpoint's due deliveries in rounds of `concurrency` bookings, each booking
    in order (app/services/delivery_rounds.py), until none is sendable or the budget is
    spent. A booking whose delivery failed waits for its next try, so the rounds end."""
    deadline = time.monotonic() + budget_seconds
    later: list[tuple[int, float]] = []
    probes: list[float] = []
    recovered = False
    while True:
        done = await send_round(sessions, settings, http, endpoint_id, size=concurrency)
        later += done.later
        probes += [done.probe_in] if done.probe_in is not None else []
        recovered = recovered or done.recovered
        more = done.taken > 0
        if not more or time.monotonic() > deadline:
            return Drained(more, later, min(probes, default=None), recovered)


async def sendable_now(session: AsyncSession, endpoint_id: int) -> bool:
    """Whether a drain of the endpoint would send something now: an enabled endpoint's
    pending delivery that is due, next in its booking's order and held by no sender."""
    now = utcnow()
    stmt = (
        select(BookingDelivery.id)
        .join(PmsEndpoint, BookingDelivery.endpoint_id == PmsEndpoint.id)
        .where(
            BookingDelivery.endpoint_id == endpoint_id,
            BookingDelivery.status == DeliveryStatus.PENDING,
            BookingDelivery.next_attempt_at <= now,
            or_(BookingDelivery.lease_until.is_(None), BookingDelivery.lease_until < now),
            PmsEndpoint.disabled_at.is_(None),
            next_of_its_booking(),
        )
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


async def endpoints_to_probe(session: AsyncSession) -> list[int]:
    """Failing, enabled endpoints with a pending delivery: the sweep keeps a probe on each."""
    stmt = (
        select(PmsEndpoint.id)
        .where(
            PmsEndpoint.failing_since.is_not(None),
            PmsEndpoint.disabled_at.is_(None),
            exists().where(
                BookingDelivery.endpoint_id == PmsEndpoint.id,
                BookingDelivery.status == DeliveryStatus.PENDING,
            ),
        )
        .order_by(PmsEndpoint.id)
    )
    return list((await session.execute(stmt)).scalars())
