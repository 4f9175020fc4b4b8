"""arq workers: declarative settings per queue, and a runner for several queues in one process."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import signal
from collections.abc import Iterator, Mapping, Sequence
from typing import cast

from arq.connections import RedisSettings
from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine
from arq.worker import Function, Worker, create_worker, func

from app.jobs.queue import create_json_pool, dump_json, load_json
from app.jobs.registry import SWEEP_JOB, JobSpec, build_registry
from app.settings import Settings

logger = logging.getLogger(__name__)

# Seconds, not arq's default hour, so that a dead worker shows within a few seconds.
HEALTH_CHECK_INTERVAL_SECONDS = 10
# On SIGTERM, stop taking jobs and give running ones this long before cancelling them.
JOB_COMPLETION_WAIT_SECONDS = 20
MAX_JOBS_PER_WORKER = 10


def build_worker_settings(
    settings: Settings, queue_name: str, registry: Mapping[str, JobSpec] | None = None
) -> dict[str, object]:
    """arq Worker keyword arguments for one queue: its jobs, JSON, short timeouts, no results."""
    registry = build_registry() if registry is None else registry
    return {
        "queue_name": queue_name,
        "functions": _functions(registry, queue_name),
        "cron_jobs": _cron_jobs(registry, queue_name, settings.sweep_interval_seconds),
        "redis_settings": RedisSettings.from_dsn(require_redis_url(settings)),
        "job_serializer": dump_json,
        "job_deserializer": load_json,
        # No results: a finished job frees its id at once, so it can be enqueued again.
        "keep_result": 0,
        "health_check_interval": HEALTH_CHECK_INTERVAL_SECONDS,
        "job_completion_wait": JOB_COMPLETION_WAIT_SECONDS,
        "max_jobs": MAX_JOBS_PER_WORKER,
    }


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


def _functions(registry: Mapping[str, JobSpec], queue_name: str) -> list[Function]:
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
        if spec.queue == queue_name
    ]


def sweep_seconds(interval: float) -> set[int]:
    """The seconds of each minute at which the sweep runs. arq's cron has no interval, so one
    under a minute becomes evenly spaced seconds, and a longer one runs once a minute (more
    often than asked, which is harmless: a sweep only enqueues what the database owes)."""
    step = max(1, math.ceil(interval))
    return set(range(0, 60, step)) if step < 60 else {0}


def _cron_jobs(registry: Mapping[str, JobSpec], queue_name: str, interval: float) -> list[CronJob]:
    """The sweep at startup and then every `interval` (see sweep_seconds), on the worker of the
    sweep's own queue."""
    spec = registry.get(SWEEP_JOB)
    if spec is None or spec.queue != queue_name:
        return []
    sweep_cron = cron(
        cast(WorkerCoroutine, spec.function),
        name=SWEEP_JOB,
        second=sweep_seconds(interval),
        run_at_startup=True,
        timeout=spec.timeout_seconds,
        max_tries=spec.max_tries,
    )
    return [sweep_cron]


async def run_workers(settings: Settings, queues: Sequence[str]) -> None:
    """Run one arq worker per queue in this process until SIGINT/SIGTERM, sharing one ctx."""
    # Imported here: app.resources imports the whole application.
    from app.migrate import ensure_schema
    from app.resources import open_worker_resources

    registry = build_registry()
    queues = queues_with_jobs(registry, queues)
    if not queues:
        raise ValueError("none of the requested queues has jobs")
    # One pool and one set of resources (engine, Channex client, queue) for all the workers.
    pool = await create_json_pool(require_redis_url(settings))
    try:
        resources = await open_worker_resources(settings, pool, registry)
        ctx = resources.context()
        try:
            # Jobs on an older schema would fail one by one; refuse at once, as the API does.
            await ensure_schema(resources.engine, settings)
            workers = [
                create_worker(
                    build_worker_settings(settings, queue, registry),
                    redis_pool=pool,
                    ctx=dict(ctx),
                    handle_signals=False,
                )
                for queue in queues
            ]
            # As `serve` does: what start-up built lives as long as the process. Frozen, the
            # cyclic GC stops re-walking it in every full collection; a full sync's 20,000
            # cells trigger many (benchmarks/ari.py: about a third of a push's CPU).
            gc.freeze()
            await run_worker_group(workers)
        finally:
            await resources.aclose()
    finally:
        await pool.aclose()


async def run_worker_group(workers: Sequence[Worker]) -> None:
    """Run workers until all stop (burst or a signal) or one fails, which stops the others."""
    tasks = [asyncio.create_task(worker.async_run()) for worker in workers]
    with _stop_on_signals(workers):
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for worker, task in zip(workers, tasks, strict=True):
                if not task.done():
                    worker.handle_sig_wait_for_completion(signal.SIGTERM)
            await asyncio.wait(tasks)
    for worker in workers:
        await _release(worker)
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error


@contextlib.contextmanager
def _stop_on_signals(workers: Sequence[Worker]) -> Iterator[None]:
    """Route SIGINT/SIGTERM to every worker (arq's own handlers would keep only the last one)."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, _stop_all, workers, sig)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def _stop_all(workers: Sequence[Worker], sig: signal.Signals) -> None:
    for worker in workers:
        worker.handle_sig_wait_for_completion(sig)


async def _release(worker: Worker) -> None:
    """Worker.close() minus closing the shared pool, which it does with a deprecated call."""
    await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    await worker.pool.delete(worker.health_check_key)
