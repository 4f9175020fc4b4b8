"""arq workers: declarative settings per queue, and a runner that keeps one worker loop per
queue alive in one process, through Redis outages, until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from arq.connections import ArqRedis, RedisSettings
from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine
from arq.worker import Function, Worker, func, get_kwargs
from redis.exceptions import RedisError

from app.jobs.in_progress import SkipRunningWorker
from app.jobs.namespace import RedisNames
from app.jobs.queue import dump_json, lazy_json_pool, load_json
from app.jobs.registry import build_registry
from app.jobs.requests import SWEEP
from app.jobs.spec import JobSpec, run_after_end
from app.settings import Settings

logger = logging.getLogger(__name__)

# Seconds, not arq's default hour, so that a dead worker shows within a few seconds.
HEALTH_CHECK_INTERVAL_SECONDS = 10
# On SIGTERM, stop taking jobs and give running ones this long before cancelling them.
JOB_COMPLETION_WAIT_SECONDS = 20
MAX_JOBS_PER_WORKER = 10
# How often an idle queue loop asks Redis for due jobs; arq's default is 0.5 s. A booking
# passes through three jobs (drain_inbox, process_webhook_events, drain_pms_endpoint), each
# waiting for the next poll, and a slot freed by a finished job stays empty until then:
# at 0.5 s that was 1.2 s of a booking's 1.5 s end to end and capped 2 workers near 30
# revisions/s (benchmarks/bookings_speed.py), and it alone would spend an idle ARI change's
# 0.5 s (issue 14). One cheap ZRANGEBYSCORE per poll and queue.
POLL_DELAY_SECONDS = 0.05
# While Redis is away, each queue's loop tries again after a wait that doubles up to this.
RECONNECT_MAX_SECONDS = 30.0
RECONNECT_FIRST_SECONDS = 0.5
REDIS_ERRORS = (RedisError, OSError)

WorkerFactory = Callable[[], Worker]


@dataclass(frozen=True)
class QueueWorkerSettings:
    """One queue's arq worker settings, as arq means them: each attribute is named as the arq
    Worker argument it sets, and `worker_factory` builds the worker from `vars(settings)`. JSON,
    short timeouts, no results, and every Redis name inside the deployment's namespace."""

    queue_name: str
    health_check_key: str
    functions: list[Function]
    cron_jobs: list[CronJob]
    redis_settings: RedisSettings
    job_serializer: Callable[[dict[str, Any]], bytes] = dump_json
    job_deserializer: Callable[[bytes], dict[str, Any]] = load_json
    # No results: a finished job frees its id at once, so it can be enqueued again.
    keep_result: int = 0
    health_check_interval: int = HEALTH_CHECK_INTERVAL_SECONDS
    job_completion_wait: int = JOB_COMPLETION_WAIT_SECONDS
    max_jobs: int = MAX_JOBS_PER_WORKER
    poll_delay: float = POLL_DELAY_SECONDS
    # After a job's keys are gone (its id free again): its spec's `after_end`, if any.
    after_job_end: Callable[[dict[str, Any]], Awaitable[None]] | None = None


def build_worker_settings(
    settings: Settings, queue: str, registry: Mapping[str, JobSpec] | None = None
) -> QueueWorkerSettings:
    """The arq worker settings of one queue of this deployment."""
    registry = build_registry() if registry is None else registry
    names = RedisNames.of(settings)
    return QueueWorkerSettings(
        queue_name=names.queue(queue),
        health_check_key=names.health(queue),
        functions=_functions(registry, queue),
        cron_jobs=_cron_jobs(registry, queue, settings.sweep_interval_seconds, names),
        redis_settings=RedisSettings.from_dsn(require_redis_url(settings)),
        after_job_end=partial(run_after_end, registry),
    )


def worker_factory(
    config: QueueWorkerSettings, redis_url: str, ctx: Mapping[str, object], **overrides: Any
) -> WorkerFactory:
    """Builds the queue's worker each time the QueueWorker (re)starts it, each with a pool of
    its own (arq's `Worker.close` closes it), connecting on first use so that a worker can be
    built while Redis is down. `overrides` are further arq Worker arguments (tests)."""

    def build() -> Worker:
        # As arq's create_worker does, with arq's Worker replaced (app/jobs/in_progress.py).
        return SkipRunningWorker(**{
            **get_kwargs(vars(config)),
            "redis_pool": lazy_json_pool(redis_url),
            "ctx": dict(ctx),
            "handle_signals": False,
            **overrides,
        })  # fmt: skip

    return build


def require_redis_url(settings: Settings) -> str:
    """The Redis URL, which arq workers cannot run without."""
    if settings.redis_url is None:
        raise ValueError("REDIS_URL must be set to run arq workers")
    return settings.redis_url


def queues_with_jobs(registry: Mapping[str, JobSpec], queues: Sequence[str]) -> list[str]:
    """The given queues that have at least one job (arq refuses a worker with none)."""
    used = {spec.queue for spec in registry.values()}
    for queue in queues:
        if queue not in used:
            logger.warning("no jobs on queue %s yet, no worker started for it", queue)
    return [queue for queue in queues if queue in used]


def _functions(registry: Mapping[str, JobSpec], queue: str) -> list[Function]:
    return [
        func(
            # arq types ctx as a plain dict; ours is the WorkerContext TypedDict.
            cast(WorkerCoroutine, spec.function),
            name=name,
            timeout=spec.timeout_seconds,
            max_tries=spec.max_tries,
            keep_result=0,
        )
        for name, spec in registry.items()
        if spec.queue == queue
    ]


def sweep_seconds(interval: float) -> set[int]:
    """The seconds of each minute at which the sweep runs. arq's cron has no interval, so one
    under a minute becomes evenly spaced seconds, and a longer one runs once a minute (more
    often than asked, which is harmless: a sweep only enqueues what the database owes)."""
    step = max(1, math.ceil(interval))
    return set(range(0, 60, step)) if step < 60 else {0}


def _cron_jobs(
    registry: Mapping[str, JobSpec], queue: str, interval: float, names: RedisNames
) -> list[CronJob]:
    """The sweep at startup and then every `interval` (see sweep_seconds), on the worker of the
    sweep's own queue. Its name carries the namespace: arq makes the cron's job ids from it,
    and every worker of one deployment must agree on them (one sweep per tick) while other
    deployments must not."""
    spec = registry.get(SWEEP)
    if spec is None or spec.queue != queue:
        return []
    sweep_cron = cron(
        cast(WorkerCoroutine, spec.function),
        name=names.cron(SWEEP),
        second=sweep_seconds(interval),
        run_at_startup=True,
        timeout=spec.timeout_seconds,
        max_tries=spec.max_tries,
    )
    return [sweep_cron]


async def run_worker_group(factories: Sequence[WorkerFactory]) -> None:
    """Run a WorkerGroup until all its loops stop (burst workers) or SIGINT/SIGTERM."""
    group = WorkerGroup(factories)
    with _stop_on_signals(group):
        await group.run()


class WorkerGroup:
    """A QueueWorker per factory. A queue whose worker fails is rebuilt on its own; the
    others carry on."""

    def __init__(self, factories: Sequence[WorkerFactory]) -> None:
        outage = RedisOutage()
        self._loops = [QueueWorker(factory, outage) for factory in factories]

    async def run(self) -> None:
        await asyncio.gather(*(loop.run() for loop in self._loops))

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Graceful: no new jobs, running ones get arq's job_completion_wait."""
        for loop in self._loops:
            loop.stop(sig)


class RedisOutage:
    """Shared by the queue loops of a process, so that an outage logs one warning and one
    recovery, not one of each per queue and retry."""

    def __init__(self) -> None:
        self.down = False

    def lost(self, queue: str, error: BaseException) -> None:
        if not self.down:
            logger.warning(
                "Redis unreachable (%s); workers back off and reconnect",
                type(error).__name__,
                extra={"queue": queue},
            )
        self.down = True

    def back(self) -> None:
        if self.down:
            logger.info("Redis reachable again; workers resume")
        self.down = False


class QueueWorker:
    """One queue's arq worker, rebuilt after it fails until it is stopped: arq's own loop
    ends at the first Redis error, and a process whose loops all ended would leave bookings,
    deliveries and ARI pushes waiting for a person to restart it."""

    def __init__(self, factory: WorkerFactory, outage: RedisOutage) -> None:
        self._factory = factory
        self._outage = outage
        self._stopped = asyncio.Event()
        self._worker: Worker | None = None

    def stop(self, sig: signal.Signals) -> None:
        """Stop taking jobs, let running ones finish (arq's job_completion_wait), then end."""
        self._stopped.set()
        if self._worker is not None:
            self._worker.handle_sig_wait_for_completion(sig)

    async def run(self) -> None:
        failures = 0
        worker = self._worker = self._factory()
        while not self._stopped.is_set():
            started = time.monotonic()
            error = await _run_once(worker)
            await _release(worker)
            if error is None or self._stopped.is_set():
                return  # a burst worker that finished, or a signal
            # A loop that ran a while before failing starts its back-off again from the first.
            ran_long = time.monotonic() - started > RECONNECT_MAX_SECONDS
            failures = 1 if ran_long else failures + 1
            self._report(worker.queue_name, error)
            # The next worker's own pool answers the pings: the failed one's is closed.
            worker = self._worker = self._factory()
            if await self._back_off(worker.pool, failures):
                await _release(worker)
                return

    def _report(self, queue: str, error: BaseException) -> None:
        if isinstance(error, REDIS_ERRORS):
            self._outage.lost(queue, error)
        else:
            logger.error(
                "worker of queue %s failed; restarting it",
                queue,
                exc_info=error,
                extra={"queue": queue},
            )

    async def _back_off(self, pool: ArqRedis, failures: int) -> bool:
        """Wait (doubling with each failure in a row), then until Redis answers a ping.
        True when stopped meanwhile."""
        delay = min(RECONNECT_FIRST_SECONDS * 2 ** (failures - 1), RECONNECT_MAX_SECONDS)
        while not await self._sleep(delay):
            try:
                await pool.ping()
            except REDIS_ERRORS:
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
                continue
            self._outage.back()
            return False
        return True

    async def _sleep(self, seconds: float) -> bool:
        """Wait `seconds` or until stopped; True when stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)
        return self._stopped.is_set()


async def _run_once(worker: Worker) -> BaseException | None:
    """Run the worker's loop to its end; the error that ended it, None for a clean stop (arq
    ends a stopped loop by cancelling it)."""
    task = asyncio.create_task(worker.async_run())
    try:
        await asyncio.wait([task])
    except asyncio.CancelledError:
        task.cancel()
        raise
    return None if task.cancelled() else task.exception()


@contextlib.contextmanager
def _stop_on_signals(group: WorkerGroup) -> Iterator[None]:
    """Route SIGINT/SIGTERM to every loop (arq's own handlers would keep only the last one)."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, group.stop, sig)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def _release(worker: Worker) -> None:
    """arq's own `Worker.close`: its jobs end (cancelled, unless a stop let them finish), its
    health key goes and its pool closes. With Redis away the key expires by itself, and the
    pool is closed all the same."""
    try:
        await worker.close()
    except REDIS_ERRORS:
        await worker.pool.aclose(close_connection_pool=True)


async def workers_healthy(settings: Settings, queues: Sequence[str]) -> bool:
    """True when this host's workers of every queue with jobs have written their health key
    within the last HEALTH_CHECK_INTERVAL_SECONDS (+1): `channel-sync worker --check`."""
    names = RedisNames.of(settings)
    keys = [names.health(queue) for queue in queues_with_jobs(build_registry(), queues)]
    pool = lazy_json_pool(require_redis_url(settings))
    try:
        return bool(keys) and await pool.exists(*keys) == len(keys)
    except REDIS_ERRORS:
        return False
    finally:
        await pool.aclose(close_connection_pool=True)
