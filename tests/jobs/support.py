"""Test jobs that record their runs, and harnesses that run them on either queue."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from arq.connections import ArqRedis
from arq.worker import Retry, Worker
from sqlalchemy.exc import DBAPIError

from app.jobs.context import WorkerContext
from app.jobs.queue import ArqQueue, InProcessQueue
from app.jobs.requests import JobQueue
from app.jobs.spec import JobSpec, index_specs
from app.jobs.worker import build_worker_settings, run_worker_group, worker_factory
from app.logs import request_id
from app.settings import Settings

DRAIN_TIMEOUT_SECONDS = 5.0
# Short enough for fast tests, long enough that a slow CI machine still sees the gap.
RETRY_DEFER_SECONDS = 0.05
SHORT_TIMEOUT_SECONDS = 0.2


class Deadlock(Exception):
    """What asyncpg raises when PostgreSQL picks the transaction as a deadlock's victim."""

    sqlstate = "40P01"


@dataclass(frozen=True)
class Run:
    job: str
    args: tuple[str | int, ...]
    job_try: int
    at: float
    request_id: str | None = None  # of the request that asked for it, as the job's logs see it


@dataclass
class Recorder:
    """Job functions (bound methods) that record each run, for both queue implementations."""

    runs: list[Run] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    after_ends: list[bool] = field(default_factory=list)

    def _record(self, job: str, ctx: WorkerContext, args: tuple[str | int, ...]) -> None:
        run = Run(job, tuple(args), ctx["job_try"], time.monotonic(), request_id.get())
        self.runs.append(run)

    async def record(self, ctx: WorkerContext, *args: str | int) -> None:
        self._record("record", ctx, args)

    async def block(self, ctx: WorkerContext, *args: str | int) -> None:
        self.started.set()
        await self.gate.wait()
        self._record("block", ctx, args)

    async def retry_always(self, ctx: WorkerContext, *args: str | int) -> None:
        self._record("retry_always", ctx, args)
        raise Retry(defer=RETRY_DEFER_SECONDS)

    async def retry_once(self, ctx: WorkerContext, *args: str | int) -> None:
        self._record("retry_once", ctx, args)
        if ctx["job_try"] == 1:
            raise Retry(defer=RETRY_DEFER_SECONDS)

    async def deadlock_once(self, ctx: WorkerContext, *args: str | int) -> None:
        self._record("deadlock_once", ctx, args)
        if ctx["job_try"] == 1:
            raise DBAPIError("UPDATE ari_state ...", None, Deadlock())

    async def db_error(self, ctx: WorkerContext, *args: str | int) -> None:
        self._record("db_error", ctx, args)
        raise DBAPIError("SELECT 1", None, Exception("not a lock"))

    async def sleep_long(self, ctx: WorkerContext, *args: str | int) -> None:
        await asyncio.sleep(DRAIN_TIMEOUT_SECONDS)
        self._record("sleep_long", ctx, args)

    async def fail(self, ctx: WorkerContext, *args: str | int) -> None:
        raise RuntimeError("boom")

    async def after(self, ctx: WorkerContext, job_id: str) -> None:
        """An `after_end`: records whether the ended job's id takes a new request already."""
        self.after_ends.append(await ctx["queue"].enqueue("record", "again", job_id=job_id))

    def tries(self, job: str) -> list[int]:
        return [run.job_try for run in self.runs if run.job == job]

    def specs(self, queue: str) -> dict[str, JobSpec]:
        """A registry of these jobs, all on `queue`."""
        return index_specs(
            JobSpec("record", self.record, queue, timeout_seconds=2, max_tries=3),
            JobSpec("block", self.block, queue, timeout_seconds=DRAIN_TIMEOUT_SECONDS, max_tries=1),
            JobSpec("retry_always", self.retry_always, queue, timeout_seconds=2, max_tries=3),
            JobSpec("retry_once", self.retry_once, queue, timeout_seconds=2, max_tries=3),
            JobSpec("deadlock_once", self.deadlock_once, queue, timeout_seconds=2, max_tries=3),
            JobSpec("db_error", self.db_error, queue, timeout_seconds=2, max_tries=3),
            JobSpec(
                "sleep_long",
                self.sleep_long,
                queue,
                timeout_seconds=SHORT_TIMEOUT_SECONDS,
                max_tries=1,
            ),
            JobSpec("fail", self.fail, queue, timeout_seconds=2, max_tries=1),
            JobSpec(
                "retry_once_then_after",
                self.retry_once,
                queue,
                timeout_seconds=2,
                max_tries=3,
                after_end=self.after,
            ),
            JobSpec("fail_then_after", self.fail, queue, max_tries=1, after_end=self.after),
        )


class Harness(Protocol):
    """A queue plus a way to run everything it holds to completion."""

    queue: JobQueue

    async def drain(self) -> None: ...


@dataclass
class InProcessHarness:
    queue: InProcessQueue

    async def drain(self) -> None:
        await self.queue.wait_idle(DRAIN_TIMEOUT_SECONDS)


@dataclass
class ArqHarness:
    """Runs a real arq worker in burst mode, configured by build_worker_settings."""

    queue: ArqQueue
    pool: ArqRedis
    settings: Settings
    queue_name: str
    registry: dict[str, JobSpec]
    ctx: WorkerContext

    def worker(self, **overrides: Any) -> Worker:
        """A real arq worker of the harness's queue, polling fast."""
        options: dict[str, Any] = {"poll_delay": 0.02, **overrides}
        config = build_worker_settings(self.settings, self.queue_name, self.registry)
        assert self.settings.redis_url is not None
        return worker_factory(config, self.settings.redis_url, self.ctx, **options)()

    async def drain(self) -> None:
        async with asyncio.timeout(DRAIN_TIMEOUT_SECONDS):
            await run_worker_group([lambda: self.worker(burst=True)])
