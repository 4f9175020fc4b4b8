"""`channel-sync worker`: one process running a worker loop per queue, sharing one set of
resources (engine, Channex client, queue) until SIGINT/SIGTERM."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from prometheus_client import start_http_server

from app.jobs.queue import lazy_json_pool
from app.jobs.registry import build_registry
from app.jobs.worker import (
    build_worker_settings,
    queues_with_jobs,
    require_redis_url,
    run_worker_group,
    worker_factory,
)
from app.migrate import ensure_schema
from app.resources import open_worker_resources
from app.settings import Settings

logger = logging.getLogger(__name__)


@contextmanager
def metrics_server(port: int | None) -> Iterator[None]:
    """This process's counters at :port/metrics, from a thread of prometheus-client's own
    (a scrape never waits for a job); nothing when `port` is None."""
    if port is None:
        yield
        return
    server, thread = start_http_server(port)
    logger.info("worker metrics on http://0.0.0.0:%d/metrics", port)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def run_workers(settings: Settings, queues: Sequence[str]) -> None:
    """Run one arq worker loop per queue in this process until SIGINT/SIGTERM. Redis need
    not be up: the loops wait for it (see QueueWorker)."""
    registry = build_registry()
    queues = queues_with_jobs(registry, queues)
    if not queues:
        raise ValueError("none of the requested queues has jobs")
    redis_url = require_redis_url(settings)
    # The jobs' own queue and the limiter share one pool, connecting on first use.
    pool = lazy_json_pool(redis_url)
    try:
        resources = await open_worker_resources(settings, pool, registry)
        try:
            # Jobs on an older schema would fail one by one; refuse at once, as the API does.
            await ensure_schema(resources.engine, settings)
            ctx = resources.context()
            factories = [
                worker_factory(build_worker_settings(settings, queue, registry), redis_url, ctx)
                for queue in queues
            ]
            # As `serve` does: what start-up built lives as long as the process. Frozen, the
            # cyclic GC stops re-walking it in every full collection; a full sync's 20,000
            # cells trigger many (benchmarks/ari.py: about a third of a push's CPU).
            gc.freeze()
            with metrics_server(settings.worker_metrics_port):
                await run_worker_group(factories)
        finally:
            await resources.aclose()
    finally:
        await pool.aclose(close_connection_pool=True)
