"""Job specifications: which function runs on which queue, with what timeout and tries, and
the limits every job keeps. Imports no job, so that every job module may import it."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Coroutine, Hashable, Mapping
from dataclasses import dataclass, replace
from functools import wraps
from typing import Any

from arq.worker import Retry
from sqlalchemy.exc import DBAPIError

from app.db import lock_given_up
from app.logs import request_id
from app.metrics import JOBS

logger = logging.getLogger(__name__)

# The service's queues; in Redis each is `<REDIS_NAMESPACE>:<queue>` (app/jobs/namespace.py).
BOOKINGS_QUEUE = "bookings"
ARI_QUEUE = "ari"
FULL_SYNC_QUEUE = "full_sync"
DEFAULT_QUEUE = "default"
ALL_QUEUES = (BOOKINGS_QUEUE, ARI_QUEUE, FULL_SYNC_QUEUE, DEFAULT_QUEUE)

# The longest time limit of any job. arq holds a job's in-progress lock for the longest limit
# of its queue + 10 s, and a SIGKILLed worker's jobs run again only when that lock expires:
# 30 s keeps recovery within about 40 s. Work that can take longer is cut into runs.
MAX_JOB_SECONDS = 30.0
# A job that loops over items stops taking new ones after this and leaves the rest to a
# run of its own (Retry, or a follow-up job), well inside MAX_JOB_SECONDS.
WORK_BUDGET_SECONDS = 15.0
# Tries of a job that never asks for a retry itself: the first, and two after workers died.
CRASH_TRIES = 3
# A run the database chose as a deadlock's victim runs again after about this long (jittered,
# so that two victims of one another do not meet again): the other side has committed by then.
LOCK_RETRY_SECONDS = 1.0

# `async def job(ctx: WorkerContext, *ids: str | int) -> None`; `...` because each job
# declares its own id parameters, which a precise Callable type could not accept.
JobFunction = Callable[..., Coroutine[object, object, None]]
# `async def tenant(ctx: WorkerContext, *ids: str | int) -> Hashable`: whom a job works for.
TenantFunction = Callable[..., Coroutine[object, object, Hashable]]


@dataclass(frozen=True)
class JobSpec:
    """How a job runs: its name (app/jobs/requests.py), its function, its queue, its time limit
    per try and its number of tries."""

    name: str
    function: JobFunction
    queue: str
    timeout_seconds: float = MAX_JOB_SECONDS
    max_tries: int = CRASH_TRIES
    # Runs with the job's ctx and args once a run ended without asking to run again and the
    # job's id is free again (`run_after_end`). A job id turns a request away while its job
    # runs, and the job may have read the database before the requested work was committed:
    # this second look, made when a new request can no longer be turned away, finds it.
    after_end: JobFunction | None = None
    # The organization the job works for, from its ctx and args; the same args must always
    # give the same answer (it is remembered). While a queue's slots are all taken, tenants
    # take turns for the next free one (app/jobs/fair_slots.py, in-process queue only: arq's
    # workers take jobs in the order they become due, and an ARI push that must wait for the
    # limiter gives its slot back at once, so there the limiter's tenant share is what counts).
    tenant: TenantFunction | None = None


def index_specs(*specs: JobSpec) -> dict[str, JobSpec]:
    """Key specs by job name, refusing two jobs with one name; each function instrumented."""
    registry: dict[str, JobSpec] = {}
    for spec in specs:
        if spec.timeout_seconds > MAX_JOB_SECONDS:
            raise ValueError(
                f"job {spec.name!r} may run {spec.timeout_seconds} s, over the "
                f"{MAX_JOB_SECONDS} s that keep recovery after a crash short"
            )
        if spec.name in registry:
            raise ValueError(f"two jobs are named {spec.name!r}")
        function = instrumented(spec.name, spec.function, mark_end=spec.after_end is not None)
        registry[spec.name] = replace(spec, function=function)
    return registry


# The keyword under which a job enqueued while serving a request carries that request's id
# (app/jobs/queue.py); jobs run in this process inherit it with their task's context.
REQUEST_ID_KWARG = "request_id"


# The ctx key under which a run that ended cleanly leaves its job's name and args, for
# `run_after_end`: arq's `after_job_end` hook gets the run's ctx and nothing else.
ENDED_KEY = "ended"


def instrumented(name: str, function: JobFunction, *, mark_end: bool = False) -> JobFunction:
    """`function`, with the id of the request that asked for it in its log lines, and its
    runs counted in JOBS: ok, retry (it asked to run again, or lost a lock to a deadlock and
    is made to) or failed. With `mark_end`, a run
    that returned leaves (name, args) in its ctx for `run_after_end`."""

    @wraps(function)
    async def run(ctx: object, *args: object, **kwargs: object) -> None:
        asked_by = kwargs.pop(REQUEST_ID_KWARG, None)
        token = request_id.set(str(asked_by)) if asked_by is not None else None
        try:
            await function(ctx, *args, **kwargs)
        except Retry:
            JOBS.labels(name, "retry").inc()
            raise
        except DBAPIError as exc:
            if not lock_given_up(exc):
                JOBS.labels(name, "failed").inc()
                raise
            # Not the job's fault and not its data's: without this the run would fail for
            # good, and what it left undone would wait for the sweep.
            JOBS.labels(name, "retry").inc()
            logger.warning("job %s gave up a lock, running again", name, extra={"job": name})
            defer = LOCK_RETRY_SECONDS * random.uniform(0.5, 1.5)
            raise Retry(defer=defer) from exc
        except Exception:
            JOBS.labels(name, "failed").inc()
            raise
        finally:
            if token is not None:
                request_id.reset(token)
        JOBS.labels(name, "ok").inc()
        if mark_end and isinstance(ctx, dict):
            ctx[ENDED_KEY] = (name, args)

    return run


async def run_after_end(registry: Mapping[str, JobSpec], ctx: dict[str, Any]) -> None:
    """The `after_end` of the job whose run left its mark in `ctx`, if any. Called by both
    queues after the job's id is freed; a failure is logged, never raised into the queue."""
    ended = ctx.pop(ENDED_KEY, None)
    if ended is None:
        return
    name, args = ended
    spec = registry.get(name)
    if spec is None or spec.after_end is None:
        return
    try:
        await spec.after_end(ctx, *args)
    except Exception:
        logger.exception("after_end of job %s failed", name, extra={"job": name})


def get_spec(registry: Mapping[str, JobSpec], job_name: str) -> JobSpec:
    """The spec of `job_name`; an unknown name is a programming error, so it raises."""
    try:
        return registry[job_name]
    except KeyError:
        raise ValueError(f"unknown job {job_name!r}") from None
