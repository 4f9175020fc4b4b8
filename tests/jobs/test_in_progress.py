"""The worker's poll leaves out jobs that run already (app/jobs/in_progress.py), with a real
Redis: a running job is neither started twice nor re-checked job by job, a free one starts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from arq.worker import func

from app.jobs.in_progress import SkipRunningWorker
from app.jobs.namespace import RedisNames
from app.jobs.queue import dump_json, load_json
from tests.waiting import eventually


async def test_a_job_running_elsewhere_is_left_out_and_a_free_one_starts(
    arq_pool: ArqRedis, names: RedisNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    release = asyncio.Event()

    async def job(ctx: dict[str, object], name: str) -> None:
        ran.append(name)
        await release.wait()

    queue = names.queue("skip-running")  # the fixture removes the namespace's keys after
    busy = await arq_pool.enqueue_job("job", "busy", _job_id=names.job("busy"), _queue_name=queue)
    free = await arq_pool.enqueue_job("job", "free", _job_id=names.job("free"), _queue_name=queue)
    assert busy is not None
    assert free is not None
    busy_key = in_progress_key_prefix + busy.job_id
    await arq_pool.psetex(busy_key, 60_000, b"1")  # another worker runs it
    worker = SkipRunningWorker(
        functions=[func(job, name="job")], queue_name=queue, redis_pool=arq_pool,
        handle_signals=False, keep_result=0, job_serializer=dump_json,
        job_deserializer=load_json,
    )  # fmt: skip
    try:
        await worker.start_jobs([busy.job_id.encode(), free.job_id.encode()])
        assert set(worker.tasks) == {free.job_id}
        await eventually(lambda: ran == ["free"], 5)
        # Running in this worker: left out, and never started twice. Neither goes through
        # arq's own check (a WATCH ... MULTI pipeline per job, what the poll used to cost).
        claims = _count_claims(arq_pool, monkeypatch)
        await worker.start_jobs([busy.job_id.encode(), free.job_id.encode()])
        assert set(worker.tasks) == {free.job_id}
        assert claims == []
        release.set()
        await asyncio.wait_for(worker.tasks[free.job_id], 5)
        await arq_pool.delete(busy_key)  # the other worker's run ended without a result
        monkeypatch.undo()
        claims = _count_claims(arq_pool, monkeypatch)
        await worker.start_jobs([busy.job_id.encode()])
        assert claims == [True]  # arq's own claim, as before
        await asyncio.wait_for(worker.tasks[busy.job_id], 5)
        assert ran == ["free", "busy"]
    finally:
        await arq_pool.delete(busy_key)
        await worker.close()


def _count_claims(pool: ArqRedis, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The transactional pipelines opened on `pool` from now on (arq's claim of a job)."""
    opened: list[bool] = []
    pipeline = pool.pipeline

    def counting(transaction: bool = True, shard_hint: str | None = None) -> Any:
        if transaction:
            opened.append(True)
        return pipeline(transaction=transaction, shard_hint=shard_hint)

    monkeypatch.setattr(pool, "pipeline", counting)
    return opened
