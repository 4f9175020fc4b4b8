"""Job specifications: which function runs on which queue, with what timeout and tries, and
the limits every job keeps. Imports no job, so that every job module may import it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from functools import wraps

from arq.worker import Retry

from app.logs import request_id
from app.metrics import JOBS

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

# `async def job(ctx: WorkerContext, *ids: str | int) -> None`; `...` because each job
# declares its own id parameters, which a precise Callable type could not accept.
JobFunction = Callable[..., Coroutine[object, object, None]]


@dataclass(frozen=True)
class JobSpec:
    """How a job runs: its name (app/jobs/requests.py), its function, its queue, its time limit
    per try and its number of tries."""

    name: str
    function: JobFunction
    queue: str
    timeout_seconds: float = MAX_JOB_SECONDS
    max_tries: int = CRASH_TRIES


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
        registry[spec.name] = replace(spec, function=instrumented(spec.name, spec.function))
    return registry


# The keyword under which a job enqueued while serving a request carries that request's id
# (app/jobs/queue.py); jobs run in this process inherit it with their task's context.
REQUEST_ID_KWARG = "request_id"


def instrumented(name: str, function: JobFunction) -> JobFunction:
    """`function`, with the id of the request that asked for it in its log lines, and its
    runs counted in JOBS: ok, retry (it asked to run again) or failed."""

    @wraps(function)
    async def run(ctx: object, *args: object, **kwargs: object) -> None:
        asked_by = kwargs.pop(REQUEST_ID_KWARG, None)
        token = request_id.set(str(asked_by)) if asked_by is not None else None
        try:
            await function(ctx, *args, **kwargs)
        except Retry:
            JOBS.labels(name, "retry").inc()
            raise
        except Exception:
            JOBS.labels(name, "failed").inc()
            raise
        finally:
            if token is not None:
                request_id.reset(token)
        JOBS.labels(name, "ok").inc()

    return run


def get_spec(registry: Mapping[str, JobSpec], job_name: str) -> JobSpec:
    """The spec of `job_name`; an unknown name is a programming error, so it raises."""
    try:
        return registry[job_name]
    except KeyError:
        raise ValueError(f"unknown job {job_name!r}") from None
