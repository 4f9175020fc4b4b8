"""An arq Worker that does not re-check, at every poll, the jobs already running.

A job's id stays in its queue's sorted set until it ends, so each poll (every 50 ms, see
POLL_DELAY_SECONDS) reads the running jobs' ids again, and arq's `start_jobs` spends four
Redis round trips on each (WATCH, EXISTS, ZSCORE, UNWATCH) to find that it runs. Under a burst
of bookings that was about 24 round trips per revision, half of all Redis calls
(benchmarks/bookings_speed.py). Here one pipelined EXISTS of their in-progress keys sorts
them out first; the ids left go through arq's own checks and claim as before, so a job that
ends meanwhile is taken at the next poll, as it would have been.
"""

from __future__ import annotations

from arq.constants import in_progress_key_prefix
from arq.worker import Worker


class SkipRunningWorker(Worker):
    """arq's Worker, with the poll's running jobs left out before arq checks each one."""

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        await super().start_jobs(await self._not_running(job_ids))

    async def _not_running(self, job_ids: list[bytes]) -> list[bytes]:
        """Those ids whose in-progress key does not exist (running nowhere), in order."""
        # This worker's own running jobs need no round trip at all.
        candidates = [j for j in job_ids if j.decode() not in self._running_here()]
        if not candidates:
            return []
        async with self.pool.pipeline(transaction=False) as pipe:
            for job_id in candidates:
                pipe.exists(in_progress_key_prefix + job_id.decode())
            running = await pipe.execute()
        return [j for j, busy in zip(candidates, running, strict=True) if not busy]

    def _running_here(self) -> set[str]:
        return {job_id for job_id, task in self.tasks.items() if not task.done()}
