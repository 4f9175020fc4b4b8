"""arq worker configuration, and running workers with a real Redis: burst, cron, SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest
from arq.worker import create_worker

from app.jobs.queue import dump_json, load_json
from app.jobs.registry import (
    ALL_QUEUES,
    ARI_QUEUE,
    DEFAULT_QUEUE,
    SWEEP_JOB,
    JobSpec,
    build_registry,
    index_specs,
)
from app.jobs.sweep import sweep
from app.jobs.worker import (
    build_worker_settings,
    queues_with_jobs,
    run_worker_group,
    sweep_seconds,
)
from app.settings import Settings
from tests.jobs.support import DRAIN_TIMEOUT_SECONDS, ArqHarness, Recorder


def test_worker_settings_use_json_short_health_checks_and_no_results() -> None:
    config = build_worker_settings(Settings(redis_url="redis://redis.invalid:6379/0"), ARI_QUEUE)
    assert config["job_serializer"] is dump_json
    assert config["job_deserializer"] is load_json
    assert config["keep_result"] == 0
    assert config["health_check_interval"] == 10
    assert config["job_completion_wait"] == 20
    assert config["queue_name"] == ARI_QUEUE


async def test_worker_of_the_default_queue_runs_the_sweep_as_a_startup_cron() -> None:
    settings = Settings(redis_url="redis://redis.invalid:6379/0")
    worker = create_worker(build_worker_settings(settings, DEFAULT_QUEUE), handle_signals=False)
    [sweep_cron] = worker.cron_jobs
    assert (sweep_cron.name, sweep_cron.run_at_startup) == (SWEEP_JOB, True)
    assert worker.functions[SWEEP_JOB].timeout_s == build_registry()[SWEEP_JOB].timeout_seconds


def test_worker_settings_need_a_redis_url() -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        build_worker_settings(Settings(redis_url=None), DEFAULT_QUEUE)


def test_queues_without_jobs_get_no_worker() -> None:
    only_sweep = index_specs(JobSpec(sweep, DEFAULT_QUEUE, 5, 1))
    assert queues_with_jobs(only_sweep, ALL_QUEUES) == [DEFAULT_QUEUE]
    assert set(queues_with_jobs(build_registry(), ALL_QUEUES)) == set(ALL_QUEUES)


async def test_a_burst_worker_runs_the_startup_sweep(
    arq_harness: ArqHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.jobs.sweep")  # idle sweeps log at debug
    registry = index_specs(JobSpec(sweep, arq_harness.queue_name, 5, 1))
    worker = create_worker(
        build_worker_settings(arq_harness.settings, arq_harness.queue_name, registry),
        redis_pool=arq_harness.pool,
        ctx=dict(arq_harness.ctx),
        burst=True,
        handle_signals=False,
        poll_delay=0.02,
    )
    await run_worker_group([worker])
    assert "sweep found" in caplog.text  # the real scanners ran against the database
    assert worker.jobs_complete == 1


async def test_sigterm_stops_the_workers_after_the_running_job_finishes(
    arq_harness: ArqHarness, recorder: Recorder
) -> None:
    worker = create_worker(
        build_worker_settings(arq_harness.settings, arq_harness.queue_name, arq_harness.registry),
        redis_pool=arq_harness.pool,
        ctx=dict(arq_harness.ctx),
        handle_signals=False,
        poll_delay=0.02,
    )
    assert await arq_harness.queue.enqueue("block")
    group = asyncio.create_task(run_worker_group([worker]))
    await asyncio.wait_for(recorder.started.wait(), DRAIN_TIMEOUT_SECONDS)
    # run_worker_group has installed its handler by now, so this reaches it, not pytest.
    os.kill(os.getpid(), signal.SIGTERM)
    asyncio.get_running_loop().call_later(0.1, recorder.gate.set)
    await asyncio.wait_for(group, DRAIN_TIMEOUT_SECONDS)
    assert recorder.tries("block") == [1]
    assert worker.jobs_complete == 1
    assert await arq_harness.pool.exists(worker.health_check_key) == 0


async def test_a_failing_worker_stops_the_others_and_its_error_is_raised(
    arq_harness: ArqHarness,
) -> None:
    async def fail_startup(ctx: dict[str, object]) -> None:
        raise RuntimeError("startup failed")

    config = build_worker_settings(
        arq_harness.settings, arq_harness.queue_name, arq_harness.registry
    )
    healthy, failing = (
        create_worker(
            config,
            redis_pool=arq_harness.pool,
            ctx=dict(arq_harness.ctx),
            handle_signals=False,
            poll_delay=0.02,
            on_startup=on_startup,
        )
        for on_startup in (None, fail_startup)
    )
    with pytest.raises(RuntimeError, match="startup failed"):
        await asyncio.wait_for(run_worker_group([healthy, failing]), DRAIN_TIMEOUT_SECONDS)


def test_the_sweep_cron_follows_the_interval() -> None:
    assert sweep_seconds(60) == {0}
    assert sweep_seconds(600) == {0}
    assert sweep_seconds(15) == {0, 15, 30, 45}
    assert sweep_seconds(0.5) == set(range(60))
