"""Every job by name, the id that deduplicates it, and the `request_*` function that asks for it.

The one place that spells a job's name or builds its id: the registry (app/jobs/registry.py)
registers each name once, the sweep's scanners return the same `JobRequest`s that the
`request_*` functions send, and the rest of the service only calls `request_*`.

A request is "look now", never the work itself: the database holds the work. So a request
made while the queue is out of reach is one warning (see ArqQueue.enqueue) and the sweep
finds the work later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

SWEEP = "sweep"
SYNC_ONBOARDING = "sync_onboarding"
PUSH_ARI = "push_ari"
FULL_SYNC_ARI = "full_sync_ari"
NIGHTLY_ARI = "nightly_ari"
CHECK_ARI_DRIFT = "check_ari_drift"
PROCESS_WEBHOOK_EVENT = "process_webhook_event"
PROCESS_WEBHOOK_EVENTS = "process_webhook_events"
DRAIN_INBOX = "drain_inbox"
RECONCILE_BOOKINGS = "reconcile_bookings"
DELIVER_BOOKING = "deliver_booking"
PROBE_PMS_ENDPOINT = "probe_pms_endpoint"
DRAIN_PMS_ENDPOINT = "drain_pms_endpoint"
IMPORT_CHANNEL_RESERVATIONS = "import_channel_reservations"
ENSURE_CHANNEX_WEBHOOK = "ensure_channex_webhook"
DELIVER_CHANNEL_STATE = "deliver_channel_state"
REFRESH_CHANNELS = "refresh_channels"

JobArg = str | int


class JobQueue(Protocol):
    """Where services and jobs ask for work to be done; arq on Redis, or in-process tasks."""

    # True when jobs run in this process and enqueueing costs no I/O.
    local: bool

    async def start(self, ctx: Any) -> None:
        """Start running jobs with `ctx` (a WorkerContext) where they run in this process."""
        ...

    async def enqueue(
        self,
        job_name: str,
        *args: JobArg,
        job_id: str | None = None,
        defer: float | None = None,
    ) -> bool:
        """Queue a job; False when a job with this id is already queued or running."""
        ...

    async def queued(self, job_ids: Sequence[str]) -> set[str]:
        """Those of `job_ids` whose job is queued, deferred or running now: an enqueue of
        theirs would return False. Empty when the queue cannot tell (Redis out of reach)."""
        ...

    async def close(self) -> None:
        """Release the queue's resources."""
        ...


@dataclass(frozen=True)
class JobRequest:
    """A job to queue. Its `job_id` is stable for the work it stands for, so asking twice (a
    request and a sweep, two replicas) queues it once."""

    job_name: str
    args: tuple[JobArg, ...] = ()
    job_id: str | None = None
    defer: float | None = None

    async def send(self, queue: JobQueue) -> bool:
        """Queue it; False when it was queued already (or the queue is out of reach)."""
        return await queue.enqueue(self.job_name, *self.args, job_id=self.job_id, defer=self.defer)


# --- ARI ------------------------------------------------------------------------------------


def ari_push(property_pk: int, *, full: bool = False, defer: float | None = None) -> JobRequest:
    """The property's ARI job. Incremental pushes and full syncs share one id per property, so
    that only one of them ever sends at a time."""
    name = FULL_SYNC_ARI if full else PUSH_ARI
    return JobRequest(name, (property_pk,), f"ari:{property_pk}", defer)


def nightly_ari(property_pk: int) -> JobRequest:
    return JobRequest(NIGHTLY_ARI, (property_pk,), f"ari-nightly:{property_pk}")


def drift_check(property_pk: int, *, defer: float | None = None) -> JobRequest:
    return JobRequest(CHECK_ARI_DRIFT, (property_pk,), f"ari-drift:{property_pk}", defer)


async def request_push(
    queue: JobQueue, property_pk: int, *, full: bool = False, defer: float | None = None
) -> bool:
    """After the commit that made cells pending (or owed a full sync)."""
    return await ari_push(property_pk, full=full, defer=defer).send(queue)


async def request_drift_check(queue: JobQueue, property_pk: int, *, defer: float) -> bool:
    """After the commit that widened the property's span to check. The id coalesces: events
    arriving while the job waits add their dates to the span it will read."""
    return await drift_check(property_pk, defer=defer).send(queue)


# --- Bookings -------------------------------------------------------------------------------

# A burst of `non_acked_booking` alarms (one per revision) becomes one feed read: the job is
# deferred this long, and its id keeps later alarms from queueing another meanwhile.
RECONCILE_SOON_SECONDS = 2.0


# Events are processed in blocks of consecutive ids, a block's booking events as one batch
# (one transaction, acks in parallel: app/services/revision_batches.py). A block is a fixed
# range of ids, so every asker (the intake's waker, a drain, the sweep) names the same job for
# an event, and two jobs never share an event.
WEBHOOK_BLOCK_SIZE = 50


def webhook_event(event_id: int) -> JobRequest:
    """One event alone (a job queued before blocks existed, or a caller that wants just it)."""
    return JobRequest(PROCESS_WEBHOOK_EVENT, (event_id,), f"webhook-event:{event_id}")


def webhook_block(block: int) -> JobRequest:
    return JobRequest(PROCESS_WEBHOOK_EVENTS, (block,), f"webhook-block:{block}")


def event_block(event_id: int) -> int:
    """The block of ids `event_id` belongs to."""
    return event_id // WEBHOOK_BLOCK_SIZE


def block_ids(block: int) -> range:
    return range(block * WEBHOOK_BLOCK_SIZE, (block + 1) * WEBHOOK_BLOCK_SIZE)


def inbox_drain() -> JobRequest:
    # No id: a drain asked for while one runs must run again, for the events it did not see.
    return JobRequest(DRAIN_INBOX)


def delivery(endpoint_id: int, booking_id: int, *, defer: float | None = None) -> JobRequest:
    """One booking's deliveries: its retries, each at its own time."""
    return JobRequest(
        DELIVER_BOOKING, (endpoint_id, booking_id), f"deliver:{endpoint_id}:{booking_id}", defer
    )


def endpoint_probe(endpoint_id: int, *, defer: float | None = None) -> JobRequest:
    """One probe job per failing endpoint at a time (it re-runs itself while the endpoint
    fails; the sweep starts it again if it was lost)."""
    return JobRequest(PROBE_PMS_ENDPOINT, (endpoint_id,), f"probe:{endpoint_id}", defer)


def endpoint_drain(endpoint_id: int) -> JobRequest:
    """Every due delivery of the endpoint, many bookings side by side (new revisions, and a
    recovered endpoint's backlog)."""
    return JobRequest(DRAIN_PMS_ENDPOINT, (endpoint_id,), f"drain:{endpoint_id}")


def reconciliation() -> JobRequest:
    """The periodic round (it throttles itself to the configured interval)."""
    return JobRequest(RECONCILE_BOOKINGS, (), "reconcile")


def reconciliation_now(*, defer: float | None = None) -> JobRequest:
    """A round now, whatever the interval: something says revisions wait in the feed."""
    return JobRequest(RECONCILE_BOOKINGS, (1,), "reconcile-now", defer)


def reconciliation_step(step: int) -> JobRequest:
    """The next feed page of a round, in a job of its own (see reconcile_bookings)."""
    return JobRequest(RECONCILE_BOOKINGS, (0, step), f"reconcile-step:{step}")


def reservation_import(channex_channel_id: str) -> JobRequest:
    return JobRequest(
        IMPORT_CHANNEL_RESERVATIONS,
        (channex_channel_id,),
        f"import-reservations:{channex_channel_id}",
    )


def webhook_check() -> JobRequest:
    return JobRequest(ENSURE_CHANNEX_WEBHOOK, (), "ensure-webhook")


async def request_event_processing(queue: JobQueue, event_id: int) -> bool:
    """After the commit that stored the event: its block's job (JobSpec.after_end of that
    job finds an event its running job turned away)."""
    return await webhook_block(event_block(event_id)).send(queue)


async def request_event_block(queue: JobQueue, block: int) -> bool:
    return await webhook_block(block).send(queue)


async def request_inbox_drain(queue: JobQueue) -> bool:
    return await inbox_drain().send(queue)


async def request_deliveries(queue: JobQueue, pairs: Iterable[tuple[int, int]]) -> None:
    """After the commit that gave these (endpoint, booking) pairs something to deliver: one
    drain per endpoint (JobSpec.after_end of a running one finds what it turned away)."""
    for endpoint_id in sorted({endpoint_id for endpoint_id, _ in pairs}):
        await endpoint_drain(endpoint_id).send(queue)


async def request_delivery(
    queue: JobQueue, endpoint_id: int, booking_id: int, *, defer: float
) -> bool:
    """After the commit of a failed attempt (or one found in flight elsewhere): the booking's
    next try, at its own time."""
    return await delivery(endpoint_id, booking_id, defer=defer).send(queue)


async def request_endpoint_probe(queue: JobQueue, endpoint_id: int, *, defer: float) -> bool:
    """After the commit of a failed delivery: probe the endpoint until it answers again."""
    return await endpoint_probe(endpoint_id, defer=defer).send(queue)


async def request_endpoint_drain(queue: JobQueue, endpoint_id: int) -> bool:
    """After the commit that made a recovered endpoint's backlog due."""
    return await endpoint_drain(endpoint_id).send(queue)


async def request_reconciliation(queue: JobQueue, *, defer: float | None = None) -> bool:
    return await reconciliation_now(defer=defer).send(queue)


async def request_reconciliation_step(queue: JobQueue, step: int) -> bool:
    return await reconciliation_step(step).send(queue)


async def request_reservation_import(queue: JobQueue, channex_channel_id: str) -> bool:
    return await reservation_import(channex_channel_id).send(queue)


async def request_connection_follow_up(
    queue: JobQueue, property_pk: int, channex_channel_id: str
) -> None:
    """What follows a new OTA connection, however channel-sync learnt of it (webhook or a read
    of the property's channels), after the commit that recorded it and owed the full sync:
    the full ARI sync, and the import of the OTA's existing bookings."""
    await request_push(queue, property_pk, full=True)
    await request_reservation_import(queue, channex_channel_id)


# --- Channels -------------------------------------------------------------------------------


def channel_state_delivery(endpoint_id: int, channel_pk: int) -> JobRequest:
    return JobRequest(
        DELIVER_CHANNEL_STATE,
        (endpoint_id, channel_pk),
        f"deliver-channel:{endpoint_id}:{channel_pk}",
    )


def channels_refresh(property_pk: int) -> JobRequest:
    return JobRequest(REFRESH_CHANNELS, (property_pk,), f"channels:{property_pk}")


async def request_channel_state_deliveries(
    queue: JobQueue, pairs: Iterable[tuple[int, int]]
) -> None:
    """After the commit that queued these (endpoint, channel) state changes."""
    for endpoint_id, channel_pk in pairs:
        await channel_state_delivery(endpoint_id, channel_pk).send(queue)


# --- Onboarding -----------------------------------------------------------------------------


def onboarding_sync(kind: str, ident: int) -> JobRequest:
    return JobRequest(SYNC_ONBOARDING, (kind, ident), f"sync_onboarding:{kind}:{ident}")
