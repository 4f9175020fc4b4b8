"""What only the in-process queue does: start with a ctx, drain on close, the periodic sweep."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.jobs.context import WorkerContext
from app.jobs.queue import InProcessQueue
from app.jobs.spec import DEFAULT_QUEUE, JobSpec, index_specs
from app.jobs.sweep import sweep
from app.settings import Settings
from tests.factories import make_ctx
from tests.jobs.support import DRAIN_TIMEOUT_SECONDS, Recorder
from tests.waiting import eventually


@pytest.fixture
async def queue(recorder: Recorder, queue_name: str) -> AsyncIterator[InProcessQueue]:
    queue = InProcessQueue(recorder.specs(queue_name), drain_seconds=0.2)
    yield queue
    await queue.close()


@pytest.fixture
def ctx(
    queue: InProcessQueue,
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
) -> WorkerContext:
    return make_ctx(Settings(sweep_interval_seconds=3600), session_factory, channex, queue)


async def test_jobs_enqueued_before_start_run_once_started(
    queue: InProcessQueue, ctx: WorkerContext, recorder: Recorder
) -> None:
    assert await queue.enqueue("record", "early")
    await asyncio.sleep(0.05)
    assert recorder.runs == []
    await queue.start(ctx)
    await queue.wait_idle(DRAIN_TIMEOUT_SECONDS)
    assert [run.args for run in recorder.runs] == [("early",)]


async def test_job_receives_the_bound_ctx_with_its_id(
    queue: InProcessQueue, ctx: WorkerContext
) -> None:
    seen: list[WorkerContext] = []

    async def look(job_ctx: WorkerContext) -> None:
        seen.append(job_ctx)

    looking = InProcessQueue(
        index_specs(JobSpec("look", look, "q", timeout_seconds=1, max_tries=1))
    )
    await looking.start(ctx)
    await looking.enqueue("look", job_id="look:1")
    await looking.wait_idle(DRAIN_TIMEOUT_SECONDS)
    await looking.close()
    [job_ctx] = seen
    assert job_ctx["queue"] is queue
    assert (job_ctx["job_id"], job_ctx["job_try"]) == ("look:1", 1)
    assert "job_id" not in ctx


async def test_close_lets_a_running_job_finish(
    queue: InProcessQueue, ctx: WorkerContext, recorder: Recorder
) -> None:
    await queue.start(ctx)
    await queue.enqueue("block")
    await asyncio.wait_for(recorder.started.wait(), DRAIN_TIMEOUT_SECONDS)
    asyncio.get_running_loop().call_later(0.05, recorder.gate.set)
    await queue.close()
    assert recorder.tries("block") == [1]


async def test_close_cancels_a_job_still_running_after_the_drain_time(
    queue: InProcessQueue, ctx: WorkerContext, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    await queue.start(ctx)
    await queue.enqueue("block")
    await asyncio.wait_for(recorder.started.wait(), DRAIN_TIMEOUT_SECONDS)
    started = time.monotonic()
    await queue.close()
    assert time.monotonic() - started < 1
    assert recorder.runs == []
    assert "still running at shutdown" in caplog.text


async def test_close_cancels_deferred_jobs_and_refuses_new_ones(
    queue: InProcessQueue, ctx: WorkerContext, recorder: Recorder
) -> None:
    await queue.start(ctx)
    assert await queue.enqueue("record", "deferred", defer=30)
    started = time.monotonic()
    await queue.close()
    assert time.monotonic() - started < 1
    assert not await queue.enqueue("record", "too late")
    assert recorder.runs == []


async def test_wait_idle_times_out_while_a_job_is_deferred(
    queue: InProcessQueue, ctx: WorkerContext
) -> None:
    await queue.start(ctx)
    await queue.enqueue("record", defer=30)
    with pytest.raises(TimeoutError):
        await queue.wait_idle(0.05)


async def test_start_runs_the_sweep_now_and_every_interval(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.jobs.sweep")  # idle sweeps log at debug
    queue = InProcessQueue(index_specs(JobSpec("sweep", sweep, DEFAULT_QUEUE, 5, 1)))
    settings = Settings(sweep_interval_seconds=0.05)

    def sweeps() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage().startswith("sweep found")]

    started = time.monotonic()
    await queue.start(make_ctx(settings, session_factory, channex, queue))
    await eventually(lambda: len(sweeps()) >= 1, timeout=10)
    first = time.monotonic()
    # Waiting for the sweeps, not sleeping a fixed time: one sweep can take longer than the
    # interval on a loaded machine (the next one is then deduplicated, by design).
    await eventually(lambda: len(sweeps()) >= 3, timeout=10)
    await queue.close()
    elapsed = time.monotonic() - started
    assert first - started < 5  # the first sweep runs at start, not after an interval
    # The timer enqueues at most once per interval, so sweeps never run back to back.
    assert len(sweeps()) <= elapsed / 0.05 + 1


async def test_a_busy_queue_does_not_hold_up_the_jobs_of_another(
    ctx: WorkerContext, recorder: Recorder
) -> None:
    # One slot per queue, as one arq worker per queue: a full-sync backlog must not delay a
    # push of a PMS change (benchmarks/tenant_fairness_e2e.py), yet each queue stays bounded.
    specs = index_specs(
        JobSpec("block", recorder.block, "full_sync", timeout_seconds=5, max_tries=1),
        JobSpec("record", recorder.record, "ari", timeout_seconds=5, max_tries=1),
        JobSpec("record_full", recorder.record, "full_sync", timeout_seconds=5, max_tries=1),
    )
    queue = InProcessQueue(specs, max_jobs=1, drain_seconds=0.2)
    await queue.start(ctx)
    await queue.enqueue("block")
    await asyncio.wait_for(recorder.started.wait(), DRAIN_TIMEOUT_SECONDS)
    await queue.enqueue("record_full", "behind the block")
    await queue.enqueue("record", "other queue")
    await eventually(lambda: len(recorder.runs) >= 1, timeout=DRAIN_TIMEOUT_SECONDS)
    await asyncio.sleep(0.05)
    assert [run.args for run in recorder.runs] == [("other queue",)]
    recorder.gate.set()
    await queue.wait_idle(DRAIN_TIMEOUT_SECONDS)
    await queue.close()
    assert [run.args for run in recorder.runs][1:] == [(), ("behind the block",)]


async def test_the_in_process_queue_gives_a_second_tenants_job_the_next_free_slot(
    ctx: WorkerContext,
) -> None:
    gate = asyncio.Event()
    ran: list[int] = []
    asked: list[int] = []

    async def push(job_ctx: WorkerContext, property_pk: int) -> None:
        await gate.wait()
        ran.append(property_pk)

    async def organization(job_ctx: WorkerContext, property_pk: int) -> str:
        asked.append(property_pk)
        return "B" if property_pk >= 100 else "A"

    spec = JobSpec("push", push, "ari", timeout_seconds=5, max_tries=1, tenant=organization)
    queue = InProcessQueue(index_specs(spec), max_jobs=2)
    await queue.start(ctx)
    for pk in [*range(1, 9), 100]:  # A's eight properties, then B's one
        assert await queue.enqueue("push", pk, job_id=f"push:{pk}")
    await asyncio.sleep(0.05)
    gate.set()
    await queue.wait_idle(DRAIN_TIMEOUT_SECONDS)
    await queue.close()
    # Two of A's held the slots; B's took the first one freed, ahead of A's other six.
    assert ran[:3] == [1, 2, 100]
    assert sorted(ran) == [*range(1, 9), 100]
    assert sorted(asked) == sorted(ran)  # each job's tenant asked once
