"""The job queue: arq on Redis in production, asyncio tasks in the embedded default.

Both implementations share one contract: a job id is unique while its job is queued, deferred
or running (a second enqueue returns False), and free again as soon as the job ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast
from uuid import uuid4

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import job_key_prefix
from arq.worker import Retry
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from app.jobs.context import WorkerContext
from app.jobs.fair_slots import FairSlots
from app.jobs.namespace import RedisNames
from app.jobs.requests import SWEEP, JobArg
from app.jobs.spec import REQUEST_ID_KWARG, JobSpec, get_spec, run_after_end
from app.logs import request_id

logger = logging.getLogger(__name__)


def dump_json(job: dict[str, Any]) -> bytes:
    """arq serializer: JSON, so that nothing read from Redis is ever unpickled."""
    return json.dumps(job, separators=(",", ":")).encode()


def load_json(data: bytes) -> dict[str, Any]:
    """arq deserializer matching `dump_json`."""
    loaded: dict[str, Any] = json.loads(data)
    return loaded


class ArqQueue:
    """Enqueues on Redis for arq workers, each job on the queue its spec names, queue and job
    id inside the deployment's namespace."""

    local = False

    def __init__(
        self,
        pool: ArqRedis,
        registry: Mapping[str, JobSpec],
        names: RedisNames,
        *,
        owns_pool: bool = False,
    ) -> None:
        if pool.job_serializer is not dump_json or pool.job_deserializer is not load_json:
            raise ValueError("the arq pool must use dump_json/load_json, never pickle")
        self._pool = pool
        self._registry = registry
        self._names = names
        self._owns_pool = owns_pool

    async def enqueue(
        self,
        job_name: str,
        *args: JobArg,
        job_id: str | None = None,
        defer: float | None = None,
    ) -> bool:
        """Queue a job; False when a job with this id is already queued or running, or when
        Redis cannot be reached: the work is in the database and the sweep re-drives it, so
        an outage is one warning per enqueue, not a failed request or job."""
        spec = get_spec(self._registry, job_name)
        asked_by = request_id.get()  # the job's log lines carry the request that asked for it
        carried: dict[str, Any] = {REQUEST_ID_KWARG: asked_by} if asked_by else {}
        try:
            job = await self._pool.enqueue_job(
                job_name,
                *args,
                **carried,
                _job_id=None if job_id is None else self._names.job(job_id),
                _queue_name=self._names.queue(spec.queue),
                _defer_by=defer,
            )
        except (RedisError, OSError) as exc:
            logger.warning(
                "could not enqueue %s, Redis is unreachable (%s); the sweep will re-drive it",
                job_name,
                type(exc).__name__,
                extra={"job": job_name},
            )
            return False
        return job is not None

    async def queued(self, job_ids: Sequence[str]) -> set[str]:
        """Ids whose arq job key exists (the same test `enqueue_job` makes before it refuses
        an id), in one pipelined round trip for them all."""
        if not job_ids:
            return set()
        try:
            async with self._pool.pipeline(transaction=False) as pipe:
                for job_id in job_ids:
                    pipe.exists(job_key_prefix + self._names.job(job_id))
                found = await pipe.execute()
        except (RedisError, OSError):
            return set()  # the caller's enqueues then warn, as they would have anyway
        return {job_id for job_id, exists in zip(job_ids, found, strict=True) if exists}

    async def start(self, ctx: WorkerContext) -> None:
        """Nothing to start: arq workers run the jobs, in processes of their own."""

    async def close(self) -> None:
        """Close the pool if this queue created it."""
        if self._owns_pool:
            await self._pool.aclose()


async def create_json_pool(redis_url: str) -> ArqRedis:
    """An arq Redis pool that serializes jobs as JSON."""
    return await create_pool(
        RedisSettings.from_dsn(redis_url), job_serializer=dump_json, job_deserializer=load_json
    )


def lazy_json_pool(redis_url: str) -> ArqRedis:
    """A JSON arq pool that connects on first use: an API process must start (and take
    webhooks) while Redis is down, where `create_pool` would fail at start-up."""
    return ArqRedis(
        connection_pool=ConnectionPool.from_url(redis_url),
        job_serializer=dump_json,
        job_deserializer=load_json,
    )


@dataclass(frozen=True)
class _Job:
    name: str
    spec: JobSpec
    args: tuple[JobArg, ...]
    job_id: str


class InProcessQueue:
    """Runs jobs as asyncio tasks of this process, with the semantics of ArqQueue and its workers:
    at most `max_jobs` at once per queue, as one arq worker per queue runs them.

    Build it, build the ctx that holds it, then `await queue.start(ctx)`. Jobs enqueued before
    `start` wait for it. `start` also enqueues the sweep every `settings.sweep_interval_seconds`
    when the registry has one.
    """

    local = True

    def __init__(
        self,
        registry: Mapping[str, JobSpec],
        *,
        max_jobs: int = 10,
        drain_seconds: float = 20.0,
    ) -> None:
        self._registry = registry
        self._drain_seconds = drain_seconds
        # Bounded like the arq workers, one per queue (app/worker_process.py), so that a burst
        # cannot open unbounded database sessions, and a backlog on one queue never holds up
        # another's jobs: 500 full syncs queued must not delay a PMS change's push by the time
        # it takes to send them (benchmarks/tenant_fairness_e2e.py).
        self._max_jobs = max_jobs
        self._slots: dict[str, FairSlots] = {}
        self._tenants: dict[tuple[object, tuple[JobArg, ...]], Hashable] = {}
        # Tenants are looked up before a slot is taken: bounded too, as the jobs' sessions are.
        self._lookups = asyncio.Semaphore(max_jobs)
        self._started = asyncio.Event()
        self._ctx: WorkerContext | None = None
        self._closed = False
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._running: set[str] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self, ctx: WorkerContext) -> None:
        """Bind the context (which holds this queue) and start running jobs and the sweep."""
        if self._ctx is not None:
            raise RuntimeError("InProcessQueue started twice")
        self._ctx = ctx
        self._started.set()
        if SWEEP in self._registry:
            interval = ctx["settings"].sweep_interval_seconds
            self._sweeper = asyncio.create_task(self._sweep_forever(interval), name="sweep-timer")

    async def enqueue(
        self,
        job_name: str,
        *args: JobArg,
        job_id: str | None = None,
        defer: float | None = None,
    ) -> bool:
        """Queue a job; False when a job with this id is already queued or running."""
        spec = get_spec(self._registry, job_name)
        if self._closed:
            # Shutting down: the work is in the database, the next sweep will find it.
            logger.warning("queue closed, job %s not enqueued", job_name, extra={"job": job_name})
            return False
        job = _Job(job_name, spec, args, job_id or uuid4().hex)
        if job.job_id in self._jobs:
            return False
        self._jobs[job.job_id] = asyncio.create_task(
            self._run(job, defer), name=f"job:{job_name}:{job.job_id}"
        )
        return True

    async def queued(self, job_ids: Sequence[str]) -> set[str]:
        """Ids with a job queued, deferred or running in this process."""
        return {job_id for job_id in job_ids if job_id in self._jobs}

    # A mandatory deadline (hence ASYNC109): a test waiting for a stuck job must fail, not hang.
    async def wait_idle(self, timeout: float) -> None:  # noqa: ASYNC109
        """Return once nothing is queued or running (jobs may enqueue more); TimeoutError after."""
        async with asyncio.timeout(timeout):
            while self._jobs:
                await asyncio.wait(list(self._jobs.values()))

    async def close(self) -> None:
        """Cancel deferred jobs, give running ones `drain_seconds` to finish, cancel the rest."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        running = [task for job_id, task in self._jobs.items() if job_id in self._running]
        for job_id, task in self._jobs.items():
            if job_id not in self._running:
                task.cancel()
        if running:
            _, late = await asyncio.wait(running, timeout=self._drain_seconds)
            for task in late:
                logger.warning("job %s still running at shutdown, cancelled", task.get_name())
                task.cancel()
        tasks = [*self._jobs.values(), *([self._sweeper] if self._sweeper else [])]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _sweep_forever(self, interval: float) -> None:
        while True:
            await self.enqueue(SWEEP, job_id=SWEEP)
            await asyncio.sleep(interval)

    async def _run(self, job: _Job, defer: float | None) -> None:
        """Run the job up to `max_tries` times, as long as it raises Retry; then, its id free
        again, its spec's `after_end` if the last run ended cleanly (as arq's worker does)."""
        ctx: WorkerContext | None = None
        try:
            for job_try in range(1, job.spec.max_tries + 1):
                if defer:
                    await asyncio.sleep(defer)
                await self._started.wait()
                ctx = self._job_ctx(job, job_try)
                defer = await self._attempt(job, ctx)
                if defer is None:
                    break
                if self._closed:
                    logger.info("job %s retry dropped at shutdown", job.name, extra=_fields(job))
                    return
            else:
                logger.warning(
                    "job %s gave up after %d tries",
                    job.name,
                    job.spec.max_tries,
                    extra=_fields(job),
                )
        finally:
            self._jobs.pop(job.job_id, None)
        if ctx is not None and not self._closed:
            await run_after_end(self._registry, cast(dict[str, Any], ctx))

    async def _attempt(self, job: _Job, ctx: WorkerContext) -> float | None:
        """One try; returns the delay before the next try when the job raised Retry."""
        tenant = await self._tenant_of(job, ctx)
        async with self._slots_of(job.spec.queue).slot(tenant):
            self._running.add(job.job_id)
            try:
                async with asyncio.timeout(job.spec.timeout_seconds):
                    await job.spec.function(ctx, *job.args)
            except Retry as retry:
                return (retry.defer_score or 0) / 1000
            except TimeoutError:
                logger.exception(
                    "job %s timed out after %ss",
                    job.name,
                    job.spec.timeout_seconds,
                    extra=_fields(job),
                )
            except Exception:
                logger.exception("job %s failed", job.name, extra=_fields(job))
            finally:
                self._running.discard(job.job_id)
        return None

    def _slots_of(self, queue: str) -> FairSlots:
        slots = self._slots.get(queue)
        if slots is None:
            slots = self._slots[queue] = FairSlots(self._max_jobs)
        return slots

    async def _tenant_of(self, job: _Job, ctx: WorkerContext) -> Hashable:
        """Whose turn the job takes for a slot (JobSpec.tenant), remembered per args; None
        for jobs that name no tenant, and when it cannot be told now (the job's own run
        then meets the same trouble and reports it)."""
        tenant_function = job.spec.tenant
        if tenant_function is None:
            return None
        key = (tenant_function, job.args)
        if key not in self._tenants:
            try:
                async with self._lookups:
                    self._tenants[key] = await tenant_function(ctx, *job.args)
            except Exception:
                logger.debug("tenant of job %s unknown", job.name, exc_info=True)
                return None
        return self._tenants[key]

    def _job_ctx(self, job: _Job, job_try: int) -> WorkerContext:
        assert self._ctx is not None, "jobs run only after start()"
        ctx = self._ctx.copy()
        ctx["job_id"] = job.job_id
        ctx["job_try"] = job_try
        return ctx


def _fields(job: _Job) -> dict[str, str]:
    return {"job": job.name, "job_id": job.job_id}
