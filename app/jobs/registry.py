"""Job specifications: which function runs on which queue, with what timeout and tries."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass

# The service's queues; in Redis each is `<REDIS_NAMESPACE>:<queue>` (app/jobs/namespace.py).
BOOKINGS_QUEUE = "bookings"
ARI_QUEUE = "ari"
FULL_SYNC_QUEUE = "full_sync"
DEFAULT_QUEUE = "default"
ALL_QUEUES = (BOOKINGS_QUEUE, ARI_QUEUE, FULL_SYNC_QUEUE, DEFAULT_QUEUE)

SWEEP_JOB = "sweep"

# The longest time limit of any job. arq holds a job's in-progress lock for the longest limit
# of its queue + 10 s, and a SIGKILLed worker's jobs run again only when that lock expires:
# 30 s keeps recovery within about 40 s. Work that can take longer is cut into runs.
MAX_JOB_SECONDS = 30.0
# A job that loops over items stops taking new ones after this and leaves the rest to a
# run of its own (Retry, or a follow-up job), well inside MAX_JOB_SECONDS.
WORK_BUDGET_SECONDS = 15.0
# Tries of a job that never asks for a retry itself: the first, and two after workers died.
CRASH_TRIES = 3

# `async def job(ctx: WorkerContext, *ids: str | int) -> None`; `...` because each job
# declares its own id parameters, which a precise Callable type could not accept.
JobFunction = Callable[..., Coroutine[object, object, None]]


@dataclass(frozen=True)
class JobSpec:
    """How a job runs: its function, its queue, its time limit per try and its number of tries."""

    function: JobFunction
    queue: str
    timeout_seconds: float
    max_tries: int

    @property
    def name(self) -> str:
        return self.function.__name__


def index_specs(*specs: JobSpec) -> dict[str, JobSpec]:
    """Key specs by job name, refusing two jobs with one name."""
    registry: dict[str, JobSpec] = {}
    for spec in specs:
        if spec.timeout_seconds > MAX_JOB_SECONDS:
            raise ValueError(
                f"job {spec.name!r} may run {spec.timeout_seconds} s, over the "
                f"{MAX_JOB_SECONDS} s that keep recovery after a crash short"
            )
        if spec.name in registry:
            raise ValueError(f"two jobs are named {spec.name!r}")
        registry[spec.name] = spec
    return registry


def build_registry() -> dict[str, JobSpec]:
    """Every job of the service; add a line here for each new job."""
    # Imported here, not at module level, so that job modules may import this module.
    from app.jobs import ari, ari_watch, bookings, onboarding
    from app.jobs.sweep import sweep

    limit = MAX_JOB_SECONDS
    # arq counts a run cut short by a dead worker as a try, and drops a job past max_tries
    # without running it: once tries are enough for a killed worker's job to run again.
    once = CRASH_TRIES
    return index_specs(
        JobSpec(sweep, DEFAULT_QUEUE, timeout_seconds=limit, max_tries=once),
        JobSpec(onboarding.sync_onboarding, DEFAULT_QUEUE, timeout_seconds=limit, max_tries=once),
        # Retry(defer) counts as a try: many tries, the sweep re-drives a job that gave up.
        JobSpec(ari.push_ari, ARI_QUEUE, timeout_seconds=limit, max_tries=100),
        JobSpec(ari.full_sync_ari, FULL_SYNC_QUEUE, timeout_seconds=limit, max_tries=100),
        JobSpec(ari.nightly_ari, FULL_SYNC_QUEUE, timeout_seconds=limit, max_tries=12),
        JobSpec(ari_watch.check_ari_drift, ARI_QUEUE, timeout_seconds=limit, max_tries=100),
        JobSpec(bookings.process_webhook_event, BOOKINGS_QUEUE, timeout_seconds=limit, max_tries=8),
        JobSpec(bookings.drain_inbox, BOOKINGS_QUEUE, timeout_seconds=limit, max_tries=once),
        JobSpec(bookings.reconcile_bookings, BOOKINGS_QUEUE, timeout_seconds=limit, max_tries=once),
        JobSpec(bookings.deliver_booking, BOOKINGS_QUEUE, timeout_seconds=limit, max_tries=50),
        JobSpec(
            bookings.import_channel_reservations, DEFAULT_QUEUE, timeout_seconds=limit, max_tries=5
        ),
        JobSpec(
            bookings.ensure_channex_webhook, DEFAULT_QUEUE, timeout_seconds=limit, max_tries=once
        ),
    )


def get_spec(registry: Mapping[str, JobSpec], job_name: str) -> JobSpec:
    """The spec of `job_name`; an unknown name is a programming error, so it raises."""
    try:
        return registry[job_name]
    except KeyError:
        raise ValueError(f"unknown job {job_name!r}") from None
