"""What only ArqQueue does: JSON in Redis, on the queue its spec names, and never pickle."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
from arq.connections import ArqRedis

from app.jobs.namespace import RedisNames
from app.jobs.queue import ArqQueue
from app.jobs.registry import build_registry
from tests.jobs.support import ArqHarness


async def test_stored_job_is_json_on_the_queue_of_its_spec(arq_harness: ArqHarness) -> None:
    job_id = f"test:{uuid4().hex}"
    assert await arq_harness.queue.enqueue("record", "prop-1", 7, job_id=job_id)
    names = RedisNames.of(arq_harness.settings)
    raw = await arq_harness.pool.get(f"arq:job:{names.job(job_id)}")
    assert isinstance(raw, bytes)
    assert not raw.startswith(b"\x80")  # the pickle protocol marker
    stored = json.loads(raw)
    assert (stored["f"], stored["a"], stored["k"]) == ("record", ["prop-1", 7], {})
    stored_in = names.queue(arq_harness.queue_name)
    assert await arq_harness.pool.zscore(stored_in, names.job(job_id)) is not None


async def test_a_pickling_pool_is_refused() -> None:
    pool = ArqRedis()  # arq's default serializer is pickle; no connection is made
    with pytest.raises(ValueError, match="never pickle"):
        ArqQueue(pool, build_registry(), RedisNames("unused"))
    await pool.aclose()
