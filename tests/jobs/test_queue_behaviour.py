"""Behaviour that the in-process queue and arq (real Redis, real worker) must share."""

from __future__ import annotations

import asyncio
import logging
import time
from uuid import uuid4

import pytest

from app.logs import request_id
from tests.jobs.support import (
    DRAIN_TIMEOUT_SECONDS,
    SHORT_TIMEOUT_SECONDS,
    Harness,
    Recorder,
)


def new_id() -> str:
    return f"test:{uuid4().hex}"


async def test_job_runs_with_its_args_and_first_try(harness: Harness, recorder: Recorder) -> None:
    assert await harness.queue.enqueue("record", "prop-1", 7)
    await harness.drain()
    assert [(run.args, run.job_try) for run in recorder.runs] == [(("prop-1", 7), 1)]


async def test_job_id_is_refused_while_queued_and_free_after_finish(
    harness: Harness, recorder: Recorder
) -> None:
    job_id = new_id()
    assert await harness.queue.enqueue("record", "a", job_id=job_id)
    assert not await harness.queue.enqueue("record", "b", job_id=job_id)
    await harness.drain()
    assert await harness.queue.enqueue("record", "c", job_id=job_id)
    await harness.drain()
    assert [run.args for run in recorder.runs] == [("a",), ("c",)]


async def test_job_id_is_refused_while_running(harness: Harness, recorder: Recorder) -> None:
    job_id = new_id()
    assert await harness.queue.enqueue("block", job_id=job_id)
    drain = asyncio.create_task(harness.drain())
    await asyncio.wait_for(recorder.started.wait(), DRAIN_TIMEOUT_SECONDS)
    assert not await harness.queue.enqueue("block", job_id=job_id)
    recorder.gate.set()
    await drain
    assert recorder.tries("block") == [1]


async def test_after_end_runs_once_the_job_id_is_free(harness: Harness, recorder: Recorder) -> None:
    """A request turned away by the job id while the job ran gets its second look here."""
    job_id = new_id()
    assert await harness.queue.enqueue("retry_once_then_after", job_id, job_id=job_id)
    await harness.drain()
    assert recorder.tries("retry_once") == [1, 2]
    assert recorder.after_ends == [True]  # once, after the clean run, with the id free
    await harness.drain()
    assert [run.args for run in recorder.runs if run.job == "record"] == [("again",)]


async def test_after_end_does_not_run_after_a_failure(harness: Harness, recorder: Recorder) -> None:
    job_id = new_id()
    assert await harness.queue.enqueue("fail_then_after", job_id, job_id=job_id)
    await harness.drain()
    assert recorder.after_ends == []


async def test_defer_delays_the_job(harness: Harness, recorder: Recorder) -> None:
    enqueued_at = time.monotonic()
    assert await harness.queue.enqueue("record", "later", defer=0.3)
    await harness.drain()
    [run] = recorder.runs
    assert run.at - enqueued_at >= 0.28  # arq schedules in whole milliseconds


async def test_retry_reruns_the_same_job_up_to_max_tries(
    harness: Harness, recorder: Recorder
) -> None:
    job_id = new_id()
    assert await harness.queue.enqueue("retry_always", "p", job_id=job_id)
    assert not await harness.queue.enqueue("retry_always", "p", job_id=job_id)
    await harness.drain()
    assert recorder.tries("retry_always") == [1, 2, 3]
    # Given up, the id is free again.
    assert await harness.queue.enqueue("retry_always", "p", job_id=job_id)


async def test_retry_stops_once_the_job_succeeds(harness: Harness, recorder: Recorder) -> None:
    assert await harness.queue.enqueue("retry_once")
    await harness.drain()
    assert recorder.tries("retry_once") == [1, 2]


async def test_a_deadlocks_victim_runs_again_and_other_database_errors_fail(
    harness: Harness, recorder: Recorder
) -> None:
    """A deadlock is the database's doing: failed for good, the job's work would wait for the
    sweep (a block of webhook events did so in CI)."""
    assert await harness.queue.enqueue("deadlock_once")
    assert await harness.queue.enqueue("db_error")
    await harness.drain()
    assert recorder.tries("deadlock_once") == [1, 2]
    assert recorder.tries("db_error") == [1]


async def test_timeout_fails_the_job_and_the_queue_keeps_working(
    harness: Harness, recorder: Recorder
) -> None:
    started = time.monotonic()
    assert await harness.queue.enqueue("sleep_long")
    assert await harness.queue.enqueue("record", "after")
    await harness.drain()
    assert time.monotonic() - started < DRAIN_TIMEOUT_SECONDS - SHORT_TIMEOUT_SECONDS
    assert [run.job for run in recorder.runs] == ["record"]


async def test_failure_is_logged_and_the_queue_keeps_working(
    harness: Harness, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    assert await harness.queue.enqueue("fail")
    assert await harness.queue.enqueue("record", "after")
    await harness.drain()
    assert recorder.tries("record") == [1]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert any("boom" in str(r.exc_info[1]) for r in errors if r.exc_info)


async def test_unknown_job_name_is_a_programming_error(harness: Harness) -> None:
    with pytest.raises(ValueError, match="unknown job 'nope'"):
        await harness.queue.enqueue("nope")


async def test_a_job_logs_with_the_id_of_the_request_that_asked_for_it(
    harness: Harness, recorder: Recorder
) -> None:
    token = request_id.set("req-42")
    try:
        assert await harness.queue.enqueue("record", "prop-1")
    finally:
        request_id.reset(token)
    assert await harness.queue.enqueue("record", "prop-2")  # outside a request: none
    await harness.drain()
    carried = {run.args[0]: run.request_id for run in recorder.runs}
    assert carried == {"prop-1": "req-42", "prop-2": None}


async def test_queued_names_the_ids_whose_job_is_waiting_and_no_other(
    harness: Harness, recorder: Recorder
) -> None:
    waiting, finished, never = new_id(), new_id(), new_id()
    assert await harness.queue.enqueue("record", "finished", job_id=finished)
    await harness.drain()
    assert await harness.queue.enqueue("record", "waiting", job_id=waiting, defer=30)
    assert await harness.queue.queued([waiting, finished, never]) == {waiting}
    assert await harness.queue.queued([]) == set()
    assert [run.args for run in recorder.runs] == [("finished",)]
