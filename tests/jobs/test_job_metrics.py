"""Every job run is counted by outcome, and a worker process serves its counters itself."""

from __future__ import annotations

import httpx
import pytest
from arq.worker import Retry

from app.jobs.spec import JobSpec, index_specs
from app.metrics import JOBS
from app.serving import free_port
from app.worker_process import metrics_server


def runs(job: str, outcome: str) -> float:
    value: float = JOBS.labels(job, outcome)._value.get()
    return value


async def test_each_run_is_counted_as_ok_retry_or_failed() -> None:
    answers = iter([None, Retry(defer=1), ValueError("boom")])

    async def job(ctx: object) -> None:
        answer = next(answers)
        if answer is not None:
            raise answer

    spec = index_specs(JobSpec("metrics_probe", job, "default"))["metrics_probe"]
    before = {outcome: runs("metrics_probe", outcome) for outcome in ("ok", "retry", "failed")}
    await spec.function({})
    with pytest.raises(Retry):
        await spec.function({})
    with pytest.raises(ValueError, match="boom"):
        await spec.function({})
    for outcome in ("ok", "retry", "failed"):
        assert runs("metrics_probe", outcome) == before[outcome] + 1


def test_a_worker_serves_its_own_metrics() -> None:
    port = free_port()
    JOBS.labels("metrics_probe_served", "ok").inc()
    with metrics_server(port):
        response = httpx.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert 'channel_sync_jobs_total{job="metrics_probe_served",outcome="ok"}' in response.text
    with pytest.raises(httpx.ConnectError):  # stopped with the block
        httpx.get(f"http://127.0.0.1:{port}/metrics")
