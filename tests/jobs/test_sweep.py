"""The sweep: scanners read what is pending from a real database, the queue gets it once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs.registry import build_registry
from app.jobs.requests import JobRequest
from app.jobs.sweep import SCANNERS, Scanner, sweep_pending
from tests.jobs.support import Harness, Recorder


@pytest.fixture
async def pending_db(
    session_factory: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """A database with two properties whose ARI is pending."""
    async with session_factory() as session:
        await session.execute(text("CREATE TABLE pending_ari (property_id TEXT NOT NULL)"))
        await session.execute(text("INSERT INTO pending_ari VALUES ('p1'), ('p2')"))
        await session.commit()
    return session_factory


async def scan_pending_ari(session: AsyncSession) -> Sequence[JobRequest]:
    rows = await session.execute(text("SELECT property_id FROM pending_ari ORDER BY 1"))
    return [JobRequest("record", (pid,), job_id=f"record:{pid}") for pid in rows.scalars()]


async def scan_pending_ari_deferred(session: AsyncSession) -> Sequence[JobRequest]:
    """Deferred, so that the jobs are certainly still queued when the sweep repeats."""
    return [replace(job, defer=0.2) for job in await scan_pending_ari(session)]


async def scan_broken_table(session: AsyncSession) -> Sequence[JobRequest]:
    await session.execute(text("SELECT * FROM no_such_table"))
    return []


async def scan_deferred_retry(session: AsyncSession) -> Sequence[JobRequest]:
    return [JobRequest("record", ("later", 1), defer=0.05)]


async def test_sweep_enqueues_what_every_scanner_finds_despite_a_failing_one(
    harness: Harness,
    recorder: Recorder,
    pending_db: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    scanners: list[Scanner] = [scan_pending_ari, scan_broken_table, scan_deferred_retry]
    assert await sweep_pending(pending_db, harness.queue, scanners) == 3
    await harness.drain()
    assert sorted(run.args for run in recorder.runs) == [("later", 1), ("p1",), ("p2",)]
    assert "sweep scanner scan_broken_table failed" in caplog.text


async def test_a_repeated_sweep_enqueues_nothing_already_queued(
    harness: Harness, recorder: Recorder, pending_db: async_sessionmaker[AsyncSession]
) -> None:
    scanners: list[Scanner] = [scan_pending_ari_deferred]
    assert await sweep_pending(pending_db, harness.queue, scanners) == 2
    assert await sweep_pending(pending_db, harness.queue, scanners) == 0
    await harness.drain()
    assert sorted(run.args for run in recorder.runs) == [("p1",), ("p2",)]


async def test_a_job_the_queue_rejects_does_not_stop_the_others(
    harness: Harness,
    recorder: Recorder,
    pending_db: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scan_unknown(session: AsyncSession) -> Sequence[JobRequest]:
        return [JobRequest("no_such_job", ())]

    assert await sweep_pending(pending_db, harness.queue, [scan_unknown, scan_pending_ari]) == 2
    await harness.drain()
    assert len(recorder.runs) == 2
    assert "sweep could not enqueue no_such_job" in caplog.text


async def test_every_registered_scanner_names_registered_jobs(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    scanners = SCANNERS
    assert len(set(scanners)) == len(scanners)
    registered = build_registry()
    async with session_factory() as session:
        for scanner in scanners:
            for job in await scanner(session):
                assert job.job_name in registered, job
