"""arq worker configuration, and running workers with a real Redis: burst, cron, SIGTERM,
Redis outages, a failing queue, the health check."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import statistics
import time
from collections.abc import Callable

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker, create_worker

from app.jobs.namespace import RedisNames
from app.jobs.queue import ArqQueue, create_json_pool, dump_json, lazy_json_pool, load_json
from app.jobs.registry import build_registry
from app.jobs.requests import SWEEP
from app.jobs.spec import (
    ALL_QUEUES,
    ARI_QUEUE,
    DEFAULT_QUEUE,
    MAX_JOB_SECONDS,
    JobSpec,
    index_specs,
)
from app.jobs.sweep import sweep
from app.jobs.worker import (
    build_worker_settings,
    queues_with_jobs,
    run_worker_group,
    sweep_seconds,
    worker_factory,
    workers_healthy,
)
from app.settings import Settings
from tests.jobs.support import DRAIN_TIMEOUT_SECONDS, ArqHarness, Recorder
from tests.redis_server import PrivateRedis
from tests.waiting import eventually

# A killed worker's jobs wait for arq's in-progress lock: the longest limit of the queue + 10 s.
RECOVERY_TARGET_SECONDS = 45
# Long enough for a worker to back off a few times and reconnect.
OUTAGE_SECONDS = 2.0
RECOVER_TIMEOUT_SECONDS = 40.0
SWEEP_SECONDS = MAX_JOB_SECONDS  # a full sweep against a real database, on a loaded machine


def test_worker_settings_use_json_short_health_checks_and_no_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDIS_NAMESPACE")  # the run's own (tests/conftest.py): see the default
    config = build_worker_settings(Settings(redis_url="redis://redis.invalid:6379/0"), ARI_QUEUE)
    assert config.job_serializer is dump_json
    assert config.job_deserializer is load_json
    assert config.keep_result == 0
    assert config.health_check_interval == 10
    assert config.job_completion_wait == 20
    assert config.queue_name == "channel-sync:ari"


async def test_every_redis_name_is_inside_the_namespace() -> None:
    settings = Settings(redis_url="redis://redis.invalid:6379/0", redis_namespace="hotel-a")
    config = build_worker_settings(settings, DEFAULT_QUEUE)
    assert config.queue_name == "hotel-a:default"
    assert config.health_check_key == f"hotel-a:default:health-check:{socket.gethostname()}"
    worker = create_worker(vars(config), handle_signals=False)
    [sweep_cron] = worker.cron_jobs
    assert sweep_cron.name == "hotel-a:sweep"  # arq's cron job ids start with it
    assert RedisNames.of(settings).limiter_prefix == "hotel-a:rl:"


@pytest.mark.parametrize("namespace", ["", "a:b", "with space", "x" * 65])
def test_a_namespace_that_could_overlap_another_is_refused(namespace: str) -> None:
    with pytest.raises(ValueError, match="redis_namespace"):
        Settings(redis_namespace=namespace)


async def test_worker_of_the_default_queue_runs_the_sweep_as_a_startup_cron() -> None:
    settings = Settings(redis_url="redis://redis.invalid:6379/0", redis_namespace="channel-sync")
    config = build_worker_settings(settings, DEFAULT_QUEUE)
    worker = create_worker(vars(config), handle_signals=False)
    [sweep_cron] = worker.cron_jobs
    assert (sweep_cron.name, sweep_cron.run_at_startup) == (f"channel-sync:{SWEEP}", True)
    assert worker.functions[SWEEP].timeout_s == build_registry()[SWEEP].timeout_seconds


def test_no_job_holds_arq_s_in_progress_lock_past_the_recovery_target() -> None:
    for name, spec in build_registry().items():
        assert spec.timeout_seconds + 10 <= RECOVERY_TARGET_SECONDS, name


def test_every_job_runs_again_after_its_worker_died() -> None:
    # arq counts the cut-short run as a try and drops a job past max_tries unrun.
    for name, spec in build_registry().items():
        assert spec.max_tries >= 2, name


def test_a_job_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="may run"):
        index_specs(JobSpec(SWEEP, sweep, DEFAULT_QUEUE, MAX_JOB_SECONDS + 1, 1))


def test_worker_settings_need_a_redis_url() -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        build_worker_settings(Settings(redis_url=None), DEFAULT_QUEUE)


def test_queues_without_jobs_get_no_worker() -> None:
    only_sweep = index_specs(JobSpec(SWEEP, sweep, DEFAULT_QUEUE, 5, 1))
    assert queues_with_jobs(only_sweep, ALL_QUEUES) == [DEFAULT_QUEUE]
    assert set(queues_with_jobs(build_registry(), ALL_QUEUES)) == set(ALL_QUEUES)


async def test_a_burst_worker_runs_the_startup_sweep(
    arq_harness: ArqHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.jobs.sweep")  # idle sweeps log at debug
    # The real sweep reads every table: on a loaded CI machine (xdist, both databases) it has
    # taken longer than the harness's usual 5 s, which is a slow machine, not a wrong sweep.
    registry = index_specs(JobSpec(SWEEP, sweep, arq_harness.queue_name, SWEEP_SECONDS, 1))
    config = build_worker_settings(arq_harness.settings, arq_harness.queue_name, registry)
    built: list[Worker] = []
    assert arq_harness.settings.redis_url is not None
    factory = worker_factory(
        config, arq_harness.settings.redis_url, arq_harness.ctx, burst=True, poll_delay=0.02
    )

    def build() -> Worker:
        worker = factory()
        built.append(worker)
        return worker

    await asyncio.wait_for(run_worker_group([build]), SWEEP_SECONDS)
    assert "sweep found" in caplog.text  # the real scanners ran against the database
    assert [worker.jobs_complete for worker in built] == [1]


async def test_an_idle_worker_starts_a_job_within_a_short_poll(
    arq_harness: ArqHarness, recorder: Recorder
) -> None:
    # The production poll (no override): a booking passes through three jobs, and arq's
    # default 0.5 s poll made each of them wait about that long (benchmarks/bookings_speed.py).
    config = build_worker_settings(
        arq_harness.settings, arq_harness.queue_name, arq_harness.registry
    )
    assert arq_harness.settings.redis_url is not None
    build = worker_factory(config, arq_harness.settings.redis_url, arq_harness.ctx)
    group = asyncio.create_task(run_worker_group([build]))
    waits: list[float] = []
    try:
        for n in range(6):
            asked = time.monotonic()
            assert await arq_harness.queue.enqueue("record", n)
            ran = n + 1
            await eventually(lambda: len(recorder.runs) >= ran, DRAIN_TIMEOUT_SECONDS, poll=0.005)  # noqa: B023
            waits.append(recorder.runs[n].at - asked)
    finally:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(group, DRAIN_TIMEOUT_SECONDS)
    # Each job is asked for right after the last one ran, i.e. just after a poll: it waits a
    # whole poll (0.45 s and more at arq's default), give or take this machine's load.
    assert statistics.median(waits[1:]) < 0.2, waits


async def test_sigterm_stops_the_workers_after_the_running_job_finishes(
    arq_harness: ArqHarness, recorder: Recorder
) -> None:
    built: list[Worker] = []

    def build() -> Worker:
        built.append(arq_harness.worker())
        return built[-1]

    assert await arq_harness.queue.enqueue("block")
    group = asyncio.create_task(run_worker_group([build]))
    await asyncio.wait_for(recorder.started.wait(), DRAIN_TIMEOUT_SECONDS)
    # run_worker_group has installed its handler by now, so this reaches it, not pytest.
    os.kill(os.getpid(), signal.SIGTERM)
    asyncio.get_running_loop().call_later(0.1, recorder.gate.set)
    await asyncio.wait_for(group, DRAIN_TIMEOUT_SECONDS)
    assert recorder.tries("block") == [1]
    [worker] = built
    assert worker.jobs_complete == 1
    assert await arq_harness.pool.exists(worker.health_check_key) == 0


async def test_a_failing_queue_is_restarted_and_never_stops_the_others(
    arq_harness: ArqHarness, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail_startup(ctx: dict[str, object]) -> None:
        raise RuntimeError("startup failed")

    failing_builds: list[Worker] = []

    def failing() -> Worker:
        failing_builds.append(arq_harness.worker(on_startup=fail_startup))
        return failing_builds[-1]

    group = asyncio.create_task(run_worker_group([arq_harness.worker, failing]))
    try:
        assert await arq_harness.queue.enqueue("record", "still-served")
        await eventually(
            lambda: bool(recorder.tries("record")) and len(failing_builds) >= 2,
            DRAIN_TIMEOUT_SECONDS,
        )
    finally:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(group, DRAIN_TIMEOUT_SECONDS)
    assert recorder.runs[0].args == ("still-served",)
    assert "startup failed" in caplog.text


def _private_worker(
    redis: PrivateRedis, pool: ArqRedis, harness: ArqHarness
) -> Callable[[], Worker]:
    settings = harness.settings.model_copy(update={"redis_url": redis.url})
    config = build_worker_settings(settings, harness.queue_name, harness.registry)

    return worker_factory(config, redis.url, harness.ctx, poll_delay=0.02)


async def _wait_for_run(recorder: Recorder, count: int) -> None:
    await eventually(lambda: len(recorder.tries("record")) >= count, RECOVER_TIMEOUT_SECONDS)


async def test_a_worker_outlives_a_redis_outage_with_one_warning(
    private_redis: PrivateRedis,
    arq_harness: ArqHarness,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="app.jobs.worker")
    private_redis.start()
    pool = await create_json_pool(private_redis.url)
    names = RedisNames.of(arq_harness.settings)
    queue = ArqQueue(pool, arq_harness.registry, names)
    group = asyncio.create_task(
        run_worker_group([_private_worker(private_redis, pool, arq_harness)])
    )
    try:
        assert await queue.enqueue("record", "before")
        await _wait_for_run(recorder, 1)
        private_redis.stop()
        await asyncio.sleep(OUTAGE_SECONDS)
        assert not group.done()  # arq's own loop ended at the first error; ours did not
        private_redis.start()  # a restarted Redis keeps nothing: the queue starts empty
        # False while the pool has not reconnected yet.
        await eventually(lambda: queue.enqueue("record", "after"), RECOVER_TIMEOUT_SECONDS, 0.1)
        await _wait_for_run(recorder, 2)
    finally:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(group, DRAIN_TIMEOUT_SECONDS)
        await pool.aclose(close_connection_pool=True)
    assert [run.args for run in recorder.runs] == [("before",), ("after",)]
    outage = [r for r in caplog.records if r.name == "app.jobs.worker" and r.levelno >= 30]
    assert len(outage) == 1, [r.getMessage() for r in outage]
    assert outage[0].exc_info is None
    assert "Redis reachable again" in caplog.text


async def test_a_worker_started_while_redis_is_down_waits_for_it(
    private_redis: PrivateRedis, arq_harness: ArqHarness, recorder: Recorder
) -> None:
    pool = lazy_json_pool(private_redis.url)  # as `channel-sync worker` does: no connection yet
    group = asyncio.create_task(
        run_worker_group([_private_worker(private_redis, pool, arq_harness)])
    )
    try:
        await asyncio.sleep(OUTAGE_SECONDS)
        assert not group.done()
        private_redis.start()
        queue = ArqQueue(pool, arq_harness.registry, RedisNames.of(arq_harness.settings))
        await eventually(lambda: queue.enqueue("record", "late"), RECOVER_TIMEOUT_SECONDS, 0.1)
        await _wait_for_run(recorder, 1)
    finally:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(group, DRAIN_TIMEOUT_SECONDS)
        await pool.aclose(close_connection_pool=True)


async def test_an_enqueue_without_redis_is_one_warning_and_no_traceback(
    private_redis: PrivateRedis, names: RedisNames, caplog: pytest.LogCaptureFixture
) -> None:
    pool = lazy_json_pool(private_redis.url)  # never started: nothing listens
    queue = ArqQueue(pool, build_registry(), names)
    try:
        assert await queue.enqueue(SWEEP, job_id="sweep") is False
    finally:
        await pool.aclose(close_connection_pool=True)
    [record] = [r for r in caplog.records if r.name == "app.jobs.queue"]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert "sweep will re-drive" in record.getMessage()


async def test_two_namespaces_on_one_redis_keep_their_jobs_apart(
    arq_harness: ArqHarness, recorder: Recorder, arq_pool: ArqRedis
) -> None:
    other = RedisNames(f"{RedisNames.of(arq_harness.settings).namespace}-other")
    theirs = ArqQueue(arq_pool, arq_harness.registry, other)
    try:
        # The same job id in both: neither deduplicates the other away.
        assert await theirs.enqueue("record", "theirs", job_id="same")
        assert await arq_harness.queue.enqueue("record", "ours", job_id="same")
        await arq_harness.drain()  # our burst worker runs our queue to empty
        assert [run.args for run in recorder.runs] == [("ours",)]
        assert await arq_pool.zcard(other.queue(arq_harness.queue_name)) == 1  # left alone
    finally:
        await arq_pool.delete(other.queue(arq_harness.queue_name), f"arq:job:{other.job('same')}")


async def test_the_health_check_sees_this_host_s_workers(
    arq_harness: ArqHarness, arq_pool: ArqRedis
) -> None:
    settings = arq_harness.settings
    names = RedisNames.of(settings)
    assert not await workers_healthy(settings, ALL_QUEUES)
    await arq_pool.set(names.health(ARI_QUEUE), b"ok")
    assert not await workers_healthy(settings, ALL_QUEUES)  # the other queues are not up
    assert await workers_healthy(settings, [ARI_QUEUE])
    await arq_pool.set(names.health(ARI_QUEUE, host="elsewhere"), b"ok")
    await arq_pool.delete(names.health(ARI_QUEUE))
    assert not await workers_healthy(settings, [ARI_QUEUE])  # another host's worker


def test_the_sweep_cron_follows_the_interval() -> None:
    assert sweep_seconds(60) == {0}
    assert sweep_seconds(600) == {0}
    assert sweep_seconds(15) == {0, 15, 30, 45}
    assert sweep_seconds(0.5) == set(range(60))
