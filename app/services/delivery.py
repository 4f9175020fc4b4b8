"""Push delivery of revisions to the PMS, per the Standard Webhooks scheme.

The `booking_delivery` table is the work list: one row per revision per endpoint, sent in
sequence order per booking (n+1 waits until n succeeded), retried on `RETRY_SCHEDULE`.
2xx is success; 410 disables the endpoint; `Retry-After` is honoured. While an endpoint
fails, app/services/delivery_probe.py probes it and, once it answers, drains its backlog.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import ColumnElement, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from standardwebhooks.webhooks import Webhook

from app.db import utcnow
from app.domain.delivery import MAX_RETRY_AFTER, parse_retry_after, retry_delay
from app.http_pool import cheap_check_transport
from app.metrics import DELIVERIES
from app.models import (
    Booking,
    BookingDelivery,
    BookingRevision,
    ChannelDelivery,
    PmsEndpoint,
    Property,
)
from app.models.bookings import DeliveryStatus
from app.schemas_revision import RevisionDelivery
from app.services.booking_payloads import RevisionRow, as_row, revision_query, revision_read
from app.services.callback_urls import CallbackUrlError, check_callback_url
from app.services.memo import remembered
from app.services.personal_data import build_cipher, open_secret, seal_secret
from app.services.rows import insert_ignore
from app.settings import Settings

log = logging.getLogger(__name__)

GLOBAL_SCOPE = "global"


def org_scope(organization_id: int) -> str:
    return f"org:{organization_id}"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signer(secret: str) -> Webhook:
    """`whsec_…` secrets are base64; any other configured secret is used as raw bytes."""
    return Webhook(secret) if secret.startswith("whsec_") else Webhook(secret.encode())


async def _global_endpoint(session: AsyncSession, settings: Settings) -> PmsEndpoint | None:
    """The endpoint of PMS_DELIVERY_URL, its row kept in step with the settings."""
    if not settings.pms_delivery_url or settings.pms_delivery_secret is None:
        return None
    url, secret = settings.pms_delivery_url, settings.pms_delivery_secret.get_secret_value()
    cipher = build_cipher(settings)
    sealed = seal_secret(cipher, secret)
    await insert_ignore(
        session,
        PmsEndpoint,
        {"scope": GLOBAL_SCOPE, "url": url, "secret": sealed, "created_at": utcnow()},
    )
    stmt = select(PmsEndpoint).where(PmsEndpoint.scope == GLOBAL_SCOPE)
    endpoint = (await session.execute(stmt)).scalar_one()
    # Compared in clear: each encryption of the same secret gives a different token.
    if (endpoint.url, open_secret(cipher, endpoint.secret)) != (url, secret):
        endpoint.url, endpoint.secret = url, sealed
    return endpoint


async def endpoint_for(
    session: AsyncSession, settings: Settings, organization_id: int
) -> PmsEndpoint | None:
    """The organization's own endpoint, else the global one, else None (pull only)."""
    stmt = select(PmsEndpoint).where(PmsEndpoint.scope == org_scope(organization_id))
    own = (await session.execute(stmt)).scalar_one_or_none()
    return own or await _global_endpoint(session, settings)


async def queue_deliveries(
    session: AsyncSession,
    settings: Settings,
    revision: BookingRevision,
    booking: Booking,
    prop: Property,
    *,
    endpoints: dict[int, int | None] | None = None,
) -> None:
    """Add the revision's delivery row (if the organization has an endpoint). `endpoints`:
    a batch's memo of endpoint ids by organization."""
    if revision.sequence is None:
        return
    endpoint_id = await endpoint_id_for(session, settings, prop.organization_id, endpoints)
    if endpoint_id is None:
        return
    row = delivery_row(revision.id, booking.id, endpoint_id, revision.sequence)
    await insert_ignore(session, BookingDelivery, row)


async def endpoint_id_for(
    session: AsyncSession,
    settings: Settings,
    organization_id: int,
    endpoints: dict[int, int | None] | None = None,
) -> int | None:
    """The id of the endpoint the organization's deliveries go to, if any; `endpoints`: a
    batch's memo of them by organization."""

    async def endpoint_id_of() -> int | None:
        endpoint = await endpoint_for(session, settings, organization_id)
        return None if endpoint is None else endpoint.id

    return await remembered(endpoints, organization_id, endpoint_id_of)


def delivery_row(
    revision_pk: int, booking_pk: int, endpoint_id: int, sequence: int
) -> dict[str, Any]:
    """A new delivery's row, due now."""
    return {
        "message_id": "msg_" + uuid.uuid4().hex,
        "revision_id": revision_pk,
        "booking_id": booking_pk,
        "endpoint_id": endpoint_id,
        "sequence": sequence,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": utcnow(),
    }


@dataclass(frozen=True)
class Step:
    """Result of one delivery step: `sent` one revision, or wait `defer` seconds, or idle;
    `probe_in`: the attempt failed, and the endpoint wants a probe in that many seconds;
    `recovered`: it succeeded on a failing endpoint, whose backlog is now due."""

    sent: bool = False
    defer: float | None = None
    probe_in: float | None = None
    recovered: bool = False


async def _next_delivery(
    session: AsyncSession, endpoint_id: int, booking_id: int
) -> BookingDelivery | None:
    stmt = (
        select(BookingDelivery)
        .where(
            BookingDelivery.endpoint_id == endpoint_id,
            BookingDelivery.booking_id == booking_id,
            BookingDelivery.status != DeliveryStatus.DELIVERED,
        )
        .order_by(BookingDelivery.sequence)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def deliver_step(
    session: AsyncSession,
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    endpoint_id: int,
    booking_id: int,
) -> Step:
    """Send the booking's oldest undelivered revision to the endpoint, if it is due."""
    endpoint = await session.get(PmsEndpoint, endpoint_id)
    delivery = await _next_delivery(session, endpoint_id, booking_id)
    if endpoint is None or delivery is None or endpoint.disabled_at is not None:
        return Step()
    if delivery.status == DeliveryStatus.FAILED:
        return Step()  # exhausted: later revisions wait for a replay (ordering)
    wait = (delivery.next_attempt_at - utcnow()).total_seconds()
    if wait > 0:
        return Step(defer=wait)
    if not await claim(session, settings, delivery):
        return Step(defer=CLAIMED_RETRY_SECONDS)  # in flight elsewhere (a probe, a drain)
    body = await delivery_body(session, settings, delivery)
    status, retry_after, error = await post_delivery(http, settings, endpoint, delivery, body)
    delivery.attempts += 1
    delivery.last_status_code = status
    if status is not None and 200 <= status < 300:
        recovered = endpoint.failing_since is not None
        mark_delivered(delivery, endpoint)
        if recovered:
            await bring_forward(session, endpoint_id)
        await session.flush()
        return Step(sent=True, recovered=recovered)
    step = await record_failure(session, delivery, endpoint, status, retry_after, error)
    if endpoint.disabled_at is not None:
        return step
    return replace(step, probe_in=probe_delay(settings, endpoint))


def probe_delay(settings: Settings, endpoint: PmsEndpoint) -> float:
    """After a failed attempt: seconds until the endpoint's probe, its interval or the pause
    the PMS asked for (Retry-After), whichever is later."""
    probe_in = settings.pms_probe_interval_seconds
    if endpoint.next_probe_at is not None:
        probe_in = max(probe_in, (endpoint.next_probe_at - utcnow()).total_seconds())
    return probe_in


def next_of_its_booking() -> ColumnElement[bool]:
    """For a delivery not yet delivered: no earlier revision of the same booking is
    undelivered to the endpoint, so sending it can never overtake another (ordering).

    Said as "its sequence is the lowest undelivered one", a scalar subquery that PostgreSQL
    runs per candidate on the (endpoint, booking, sequence) index. As NOT EXISTS it was
    planned as an anti-join, and on a table whose statistics lag behind its rows (a burst
    on a fresh database) that join read every undelivered row of the endpoint for each
    candidate: 30 ms a claim at 1,000 deliveries, O(n^2) (benchmarks/bookings_speed.py)."""
    earlier = aliased(BookingDelivery)
    lowest = (
        select(func.min(earlier.sequence))
        .where(
            earlier.endpoint_id == BookingDelivery.endpoint_id,
            earlier.booking_id == BookingDelivery.booking_id,
            earlier.status != DeliveryStatus.DELIVERED,
        )
        .correlate(BookingDelivery)
        .scalar_subquery()
    )
    return BookingDelivery.sequence == lowest


@dataclass(frozen=True)
class Delivered:
    """Where a booking's deliveries to one endpoint stand after `deliver_pending`."""

    more: bool = False  # the time budget ran out with revisions still to send: go on at once
    defer: float | None = None  # seconds until the next one is due; None: nothing is due
    probe_in: float | None = None  # the last attempt failed: probe the endpoint that soon
    recovered: bool = False  # the endpoint answers again: its backlog wants a drain


async def deliver_pending(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    endpoint_id: int,
    booking_id: int,
    budget_seconds: float,
) -> Delivered:
    """Send the booking's undelivered revisions to the endpoint, oldest first, each committed
    as it goes; no new one is started after `budget_seconds`."""
    deadline = time.monotonic() + budget_seconds
    recovered = False
    # One session for the booking's steps, each committed: a session per step paid a
    # connection check-out and ping for each (benchmarks/bookings_speed.py).
    async with sessions() as session:
        while True:
            step = await deliver_step(
                session, settings, http, endpoint_id=endpoint_id, booking_id=booking_id
            )
            await session.commit()
            recovered = recovered or step.recovered
            if not step.sent:
                return Delivered(defer=step.defer, probe_in=step.probe_in, recovered=recovered)
            if time.monotonic() > deadline:
                return Delivered(more=True, recovered=recovered)


def mark_delivered(delivery: BookingDelivery, endpoint: PmsEndpoint) -> None:
    DELIVERIES.labels("delivered").inc()
    delivery.lease_until = None
    delivery.scheduled_at = None
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = utcnow()
    delivery.last_error = None
    endpoint.failing_since = None
    endpoint.last_error = None
    endpoint.next_probe_at = None


async def record_failure(
    session: AsyncSession,
    delivery: BookingDelivery,
    endpoint: PmsEndpoint,
    status: int | None,
    retry_after: float | None,
    error: str,
) -> Step:
    """A failed attempt (counted by the caller): its lease cleared, the endpoint marked
    failing, and the next try scheduled (or the endpoint disabled on a 410).

    A try that a recovery brought forward (`bring_forward`) and that fails is not counted:
    the delivery goes back to the try its schedule had set, and is not brought forward again
    before it. Else a PMS that refuses one revision while it takes the others would have that
    revision sent again, and a step of its schedule spent, after each of their successes."""
    now = utcnow()
    delivery.lease_until = None
    delivery.last_error = error
    endpoint.last_error = error
    endpoint.failing_since = endpoint.failing_since or now
    if retry_after is not None:  # the PMS asked for a pause: its probes keep it too
        pause = now + timedelta(seconds=min(retry_after, MAX_RETRY_AFTER))
        endpoint.next_probe_at = max(endpoint.next_probe_at or pause, pause)
    fields = {"endpoint": endpoint.id, "status": status, "error": error,
              "attempt": delivery.attempts, "revision": delivery.revision_id}  # fmt: skip
    if status == 410:
        await disable_gone(session, endpoint, fields)
        return Step()
    scheduled = delivery.scheduled_at
    if scheduled is not None and scheduled > now:
        delivery.attempts -= 1  # an early try, as a probe: not one of the schedule's
        delivery.next_attempt_at = scheduled  # scheduled_at stays: brought forward once
        DELIVERIES.labels("early_failed").inc()
        log.info("PMS delivery tried early failed; its schedule stands", extra=fields)
        return Step(defer=(scheduled - now).total_seconds())
    delivery.scheduled_at = None  # a scheduled try: the next one may be brought forward
    delay = await schedule_retry(session, delivery, retry_after, "PMS delivery", fields)
    return Step(defer=delay)


async def schedule_retry(
    session: AsyncSession,
    delivery: BookingDelivery | ChannelDelivery,
    retry_after: float | None,
    what: str,
    fields: Mapping[str, object],
) -> float | None:
    """After a failed attempt (not a 410): the next one on RETRY_SCHEDULE, or failed for good
    once the schedule is spent. Seconds until the next attempt, or None. Booking revisions
    and channel state changes share it."""
    delay = retry_delay(delivery.attempts, retry_after)
    if delay is None:
        delivery.status = DeliveryStatus.FAILED
        DELIVERIES.labels("failed").inc()
        log.warning("%s failed for good: retries spent", what, extra=fields)
    else:
        delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
        DELIVERIES.labels("retry").inc()
        log.warning("%s failed, next retry in %.0f s", what, delay, extra=fields)
    await session.flush()
    return delay


# A sender's lease outlives its POST by this much; a sender that died frees it on expiry.
LEASE_MARGIN_SECONDS = 5.0
# A booking whose revision is in flight elsewhere is looked at again this soon.
CLAIMED_RETRY_SECONDS = 1.0


async def claim(session: AsyncSession, settings: Settings, delivery: BookingDelivery) -> bool:
    """Take the delivery for one POST, or False when another sender holds it (or delivered it
    meanwhile). Committed at once, so every other sender sees it before this one sends: a
    booking's own job, a probe and a drain may all reach the same revision, and it must go
    out once. Cleared when the attempt is recorded (mark_delivered, the failure paths)."""
    now = utcnow()
    lease = now + timedelta(seconds=settings.pms_delivery_timeout_seconds + LEASE_MARGIN_SECONDS)
    stmt = (
        update(BookingDelivery)
        .where(
            BookingDelivery.id == delivery.id,
            BookingDelivery.status != DeliveryStatus.DELIVERED,
            or_(BookingDelivery.lease_until.is_(None), BookingDelivery.lease_until < now),
        )
        .values(lease_until=lease)
        .execution_options(synchronize_session=False)
    )
    taken = getattr(await session.execute(stmt), "rowcount", 0) == 1
    await session.commit()
    if taken:
        # The UPDATE bypassed the ORM: tell it, so that clearing the lease is written.
        set_committed_value(delivery, "lease_until", lease)
    return taken


async def bring_forward(session: AsyncSession, endpoint_id: int, *, asked: bool = False) -> None:
    """Make every pending delivery of the endpoint due now: it answers again, and its backlog
    should not wait for each delivery's next scheduled retry (app/services/delivery_probe.py
    drains it). Each keeps the try it had in `scheduled_at` (see record_failure); one whose
    early try failed already waits for that try, unless a person `asked` (retry now)."""
    now = utcnow()
    stmt = (
        update(BookingDelivery)
        .where(
            BookingDelivery.endpoint_id == endpoint_id,
            BookingDelivery.status == DeliveryStatus.PENDING,
            BookingDelivery.next_attempt_at > now,
            true() if asked else BookingDelivery.scheduled_at.is_(None),
        )
        .values(
            next_attempt_at=now,
            scheduled_at=func.coalesce(
                BookingDelivery.scheduled_at, BookingDelivery.next_attempt_at
            ),
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def disable_gone(
    session: AsyncSession, endpoint: PmsEndpoint, fields: Mapping[str, object]
) -> None:
    """Standard Webhooks: 410 Gone means "stop sending"; the PMS re-enables by PUT."""
    endpoint.disabled_at = utcnow()
    endpoint.disabled_reason = "the PMS answered 410 Gone"
    await session.flush()
    DELIVERIES.labels("gone").inc()
    log.warning("PMS endpoint answered 410 Gone: disabled", extra=fields)


async def delivery_body(
    session: AsyncSession, settings: Settings, delivery: BookingDelivery
) -> str:
    stmt = revision_query().where(BookingRevision.id == delivery.revision_id)
    return encode_body(settings, delivery, as_row((await session.execute(stmt)).one()))


def encode_body(settings: Settings, delivery: BookingDelivery, row: RevisionRow) -> str:
    """The delivery's JSON body, from its revision's row (booking_payloads.revision_query)."""
    read = revision_read(row, build_cipher(settings))
    payload = RevisionDelivery(
        type="booking.revision",
        delivery_id=delivery.message_id,
        sequence=delivery.sequence,
        data=read,
    )
    return json.dumps(payload.model_dump(mode="json"), separators=(",", ":"))


async def post_delivery(
    http: httpx.AsyncClient,
    settings: Settings,
    endpoint: PmsEndpoint,
    delivery: BookingDelivery | ChannelDelivery,
    body: str,
) -> tuple[int | None, float | None, str]:
    """(status or None, Retry-After seconds, error text) of one signed POST."""
    try:
        addresses = await check_callback_url(endpoint.url, settings)
    except CallbackUrlError as exc:
        return None, None, f"callback URL refused: {exc}"
    now = utcnow()
    headers = {
        "content-type": "application/json",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer(open_secret(build_cipher(settings), endpoint.secret)).sign(
            delivery.message_id, now, body
        ),
    }
    try:
        response = await _send(http, endpoint.url, addresses, body, headers)
    except httpx.HTTPError as exc:
        return None, None, f"{type(exc).__name__} calling the PMS"
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    return response.status_code, retry_after, f"the PMS answered HTTP {response.status_code}"


async def _send(
    http: httpx.AsyncClient,
    url: str,
    addresses: Sequence[str],
    body: str,
    headers: dict[str, str],
) -> httpx.Response:
    """POST to the first vetted address rather than to the name, which a second DNS answer
    could point into our network (rebinding); Host and the TLS server name (which the
    certificate is checked against) stay the URL's host."""
    if not addresses:  # ALLOW_PRIVATE_CALLBACKS: nothing was vetted, nothing to pin
        return await http.post(url, content=body, headers=headers)
    target = httpx.URL(url)
    pinned = {
        **headers,
        "host": target.netloc.decode("ascii"),
        # Connections are pooled per IP: one set up (and its certificate checked) for one
        # host name must not carry a request for another name on the same IP.
        "connection": "close",
    }
    return await http.post(
        target.copy_with(host=addresses[0]),
        content=body,
        headers=pinned,
        extensions={"sni_hostname": target.raw_host.decode("ascii")},
    )


def delivery_client(settings: Settings) -> httpx.AsyncClient:
    """Redirects are never followed: a 3xx is a failure, not a way into our network."""
    return httpx.AsyncClient(
        timeout=settings.pms_delivery_timeout_seconds,
        follow_redirects=False,
        transport=cheap_check_transport(),
    )


async def due_deliveries(
    session: AsyncSession,
    *,
    booking_ids: Sequence[int] | None = None,
    endpoint_id: int | None = None,
    horizon: float = 0.0,
) -> list[tuple[int, int]]:
    """(endpoint id, booking id) pairs with a pending delivery due within `horizon` seconds."""
    stmt = (
        select(BookingDelivery.endpoint_id, BookingDelivery.booking_id)
        .join(PmsEndpoint, BookingDelivery.endpoint_id == PmsEndpoint.id)
        .where(
            BookingDelivery.status == DeliveryStatus.PENDING,
            BookingDelivery.next_attempt_at <= utcnow() + timedelta(seconds=horizon),
            PmsEndpoint.disabled_at.is_(None),
        )
        .distinct()
        .limit(1000)
    )
    if booking_ids is not None:
        stmt = stmt.where(BookingDelivery.booking_id.in_(booking_ids))
    if endpoint_id is not None:
        stmt = stmt.where(BookingDelivery.endpoint_id == endpoint_id)
    return [(e, b) for e, b in (await session.execute(stmt)).all()]
