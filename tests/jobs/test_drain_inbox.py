"""drain_inbox: a job for every pending event, and no enqueue for an event whose job waits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.db import utcnow
from app.jobs import requests
from app.jobs.bookings import drain_inbox
from app.models import WebhookEvent
from app.settings import Settings
from tests.factories import make_ctx


@dataclass
class CountingQueue:
    """Remembers every enqueue; an id stays taken (its job waits) for the whole test."""

    waiting: set[str]
    enqueued: list[str | None] = field(default_factory=list)
    local: bool = False

    async def start(self, ctx: Any) -> None:
        """Nothing runs here."""

    async def enqueue(
        self, job_name: str, *args: str | int, job_id: str | None = None, defer: float | None = None
    ) -> bool:
        self.enqueued.append(job_id)
        if job_id is None or job_id in self.waiting:
            return False
        self.waiting.add(job_id)
        return True

    async def queued(self, job_ids: Sequence[str]) -> set[str]:
        return {job_id for job_id in job_ids if job_id in self.waiting}

    async def close(self) -> None:
        """Nothing to release."""


async def test_drain_enqueues_each_pending_event_not_already_waiting(
    session_factory: async_sessionmaker[AsyncSession], channex: ChannexClient
) -> None:
    async with session_factory() as session:
        events = [
            WebhookEvent(
                dedup_key=f"e{n}", event="booking", body="{}", status=status, received_at=utcnow()
            )
            for n, status in enumerate(["pending", "pending", "pending", "done"])
        ]
        session.add_all(events)
        await session.commit()
        ids = [event.id for event in events]
    job_id = {event_id: requests.webhook_event(event_id).job_id for event_id in ids}
    queue = CountingQueue(waiting={str(job_id[ids[0]])})
    ctx = make_ctx(Settings(), session_factory, channex, queue)

    await drain_inbox(ctx)
    first = list(queue.enqueued)
    await drain_inbox(ctx)  # every pending event's job waits now: nothing to ask for

    assert first == [job_id[ids[1]], job_id[ids[2]]]
    assert queue.enqueued == first
