"""Tell the workers that webhooks are waiting, cheaply: one Redis call per burst, not per event.

An arq enqueue is several Redis round trips; made for every webhook it cost the intake a
third of its throughput (benchmarks/webhook_intake.py). The waker instead enqueues one
`drain_inbox` job at most every WAKE_INTERVAL_SECONDS per process, from a task of its own,
so Redis is never on the request path; the drain job enqueues one job per pending event.
In the embedded default the in-process queue takes the event's own job directly (no I/O).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.jobs.requests import JobQueue, request_event_processing, request_inbox_drain

log = logging.getLogger(__name__)

WAKE_INTERVAL_SECONDS = 0.1
ENQUEUE_TIMEOUT_SECONDS = 1.0


class InboxWaker:
    """Per process; created and closed with the app (lifespan)."""

    def __init__(self, queue: JobQueue) -> None:
        self._queue = queue
        self._wanted = False
        self._task: asyncio.Task[None] | None = None

    async def notify(self, event_id: int) -> None:
        """Event `event_id` is committed: get it processed soon."""
        if self._queue.local:
            await request_event_processing(self._queue, event_id)
            return
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        # `_wanted` is cleared BEFORE each enqueue: an event committed after that point sets
        # it again, so the loop runs once more and the drain it enqueues sees that event.
        while self._wanted:
            self._wanted = False
            try:
                async with asyncio.timeout(ENQUEUE_TIMEOUT_SECONDS):
                    await request_inbox_drain(self._queue)
            except Exception:
                # Not retried here: the events are stored, and the sweep re-drives them.
                log.warning("could not enqueue the inbox drain; the sweep will")
            await asyncio.sleep(WAKE_INTERVAL_SECONDS)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
