"""Prometheus metrics: what each process did (counters, kept in that process), and the state
of the work (backlogs), computed from the database at each scrape so any replica answers alike.

Labels stay bounded: job names, Channex endpoints with their ids taken out, outcomes and
reasons from fixed sets, PMS endpoint scopes (one per organization at most). No booking,
revision or property id is ever a label.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.models.ari import AriCell
from app.models.bookings import QuarantinedRevision
from app.services.backlog import read_backlog

# A `_created` series beside every counter doubles a scrape for a figure nobody graphs.
disable_created_metrics()  # type: ignore[no-untyped-call]

WEBHOOK_RECEIVED = Counter(
    "channel_sync_webhook_events_received", "Channex webhook calls received."
)
WEBHOOK_STORED = Counter(
    "channel_sync_webhook_events_stored",
    "Webhook events stored, by the status they got (pending, malformed, ignored).",
    ["status"],
)
WEBHOOK_DUPLICATES = Counter(
    "channel_sync_webhook_events_duplicate", "Webhook calls for an event already stored."
)
WEBHOOK_REFUSED = Counter(
    "channel_sync_webhook_events_refused", "Webhook calls refused, by reason.", ["reason"]
)
REVISIONS = Counter(
    "channel_sync_revisions",
    "Booking revisions handled: applied, quarantined, or stored with a flag "
    "(unmapped_room_type, unmapped_rate_plan, unknown_property, overbooking, stale).",
    ["outcome"],
)
DELIVERIES = Counter(
    "channel_sync_pms_deliveries",
    "Delivery attempts to the PMS, by outcome (delivered, retry, gone, failed, probe_failed,"
    " early_failed: a try a recovery brought forward, refused; not counted in its schedule).",
    ["outcome"],
)
ARI_PUSHES = Counter(
    "channel_sync_ari_pushes",
    "ARI requests to Channex, by endpoint and outcome (success, partial, failed, rate_limited).",
    ["endpoint", "outcome"],
)
CHANNEX_REQUESTS = Counter(
    "channel_sync_channex_requests",
    "Channex HTTP requests, by endpoint, method and status (or `transport_error`).",
    ["endpoint", "method", "status"],
)
CHANNEX_LATENCY = Histogram(
    "channel_sync_channex_request_seconds",
    "Channex request latency.",
    ["endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
LIMITER_WAIT = Counter(
    "channel_sync_rate_limiter_wait_seconds",
    "Seconds our Channex limiter asked requests to wait (ARI re-queued, others slept).",
    ["kind"],
)
JOBS = Counter(
    "channel_sync_jobs", "Job runs by job and outcome (ok, retry, failed).", ["job", "outcome"]
)
SWEEP_FOUND = Counter("channel_sync_sweep_found", "Pending work the sweep found.")
SWEEP_ENQUEUED = Counter("channel_sync_sweep_enqueued", "Jobs the sweep newly enqueued.")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def channex_endpoint(path: str) -> str:
    """A Channex path as a bounded label: `properties/:id`, `booking_revisions/:id/ack`."""
    return _UUID.sub(":id", path.strip("/").split("?", 1)[0]) or "/"


def count_revision(flags: list[str]) -> None:
    """A revision stored: applied, and each flag it carries."""
    REVISIONS.labels("applied").inc()
    for flag in flags:
        REVISIONS.labels(flag).inc()


class ChannexTimer:
    """Times one Channex request and counts it with its answer."""

    def __init__(self, method: str, path: str) -> None:
        self._method = method
        self._endpoint = channex_endpoint(path)
        self._started = time.perf_counter()

    def done(self, status: int | str) -> None:
        CHANNEX_LATENCY.labels(self._endpoint).observe(time.perf_counter() - self._started)
        CHANNEX_REQUESTS.labels(self._endpoint, self._method, str(status)).inc()


async def state_metrics(session: AsyncSession, now: datetime | None = None) -> bytes:
    """The backlogs, read from the database now, in the text format."""
    now = now or utcnow()
    registry = CollectorRegistry()

    def gauge(name: str, help_text: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(f"channel_sync_{name}", help_text, labels, registry=registry)

    backlog = await read_backlog(session)
    gauge("webhook_events_pending", "Webhook events stored, not yet processed.").set(
        backlog.events_pending
    )
    gauge(
        "webhook_event_oldest_pending_age_seconds",
        "Age of the oldest unprocessed webhook event (0: none).",
    ).set(_age(now, backlog.oldest_event_at))
    gauge("revisions_quarantined", "Revisions in quarantine, waiting for a person.").set(
        await _count(session, QuarantinedRevision, QuarantinedRevision.resolved_at.is_(None))
    )
    pending = gauge(
        "pms_deliveries_pending", "Deliveries waiting, per PMS endpoint.", ("endpoint",)
    )
    oldest = gauge(
        "pms_delivery_oldest_pending_age_seconds",
        "Age of the oldest waiting delivery's revision, per PMS endpoint.",
        ("endpoint",),
    )
    failed = gauge(
        "pms_deliveries_failed",
        "Deliveries past their retries, per PMS endpoint (replay by API).",
        ("endpoint",),
    )
    for endpoint in backlog.endpoints:
        if endpoint.pending:
            pending.labels(endpoint.scope).set(endpoint.pending)
            oldest.labels(endpoint.scope).set(_age(now, endpoint.oldest_pending_at))
        if endpoint.failed:
            failed.labels(endpoint.scope).set(endpoint.failed)
    cells = gauge("ari_cells", "ARI cells not in sync at Channex, by state.", ("state",))
    # Failed: Channex refused the value (kept until the PMS changes it); pending: not sent yet.
    waiting = AriCell.dirty.is_(True) & AriCell.failure.is_(None)
    cells.labels("pending").set(await _count(session, AriCell, waiting))
    cells.labels("failed").set(await _count(session, AriCell, AriCell.failure.is_not(None)))
    return generate_latest(registry)


async def _count(session: AsyncSession, model: Any, where: Any) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(where)) or 0


def _age(now: datetime, then: datetime | None) -> float:
    return 0.0 if then is None else max(0.0, (now - then).total_seconds())


def process_metrics() -> bytes:
    """This process's counters, in the text format."""
    return generate_latest()
