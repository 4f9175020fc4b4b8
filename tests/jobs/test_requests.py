"""Job names and ids live in one place (app/jobs/requests.py), and the registry agrees."""

from __future__ import annotations

import ast
from pathlib import Path

from app.jobs import requests
from app.jobs.registry import build_registry

APP = Path(requests.__file__).resolve().parents[1]
QUEUE_MODULES = {APP / "jobs" / "requests.py", APP / "jobs" / "queue.py"}


def _declared_names() -> set[str]:
    return {
        value for name, value in vars(requests).items() if name.isupper() and isinstance(value, str)
    }


def test_every_job_named_in_requests_is_registered_under_that_name_and_no_other() -> None:
    registry = build_registry()
    assert set(registry) == _declared_names()
    for name, spec in registry.items():
        assert spec.name == name


def test_builders_give_stable_ids_and_ari_jobs_of_a_property_share_one() -> None:
    assert requests.ari_push(7) == requests.ari_push(7)
    push, full = requests.ari_push(7), requests.ari_push(7, full=True)
    assert (push.job_name, full.job_name) == (requests.PUSH_ARI, requests.FULL_SYNC_ARI)
    assert push.job_id == full.job_id  # only one of them ever sends at a time
    assert requests.delivery(1, 2).job_id != requests.delivery(2, 1).job_id
    # The periodic round, a forced one and a round's next page never deduplicate each other.
    ids = {
        requests.reconciliation().job_id,
        requests.reconciliation_now().job_id,
        requests.reconciliation_step(1).job_id,
        requests.reconciliation_step(2).job_id,
    }
    assert len(ids) == 4


def _enqueue_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "enqueue"
    ]


def test_only_the_request_functions_call_the_queue() -> None:
    # Services, routes and jobs ask through request_* (or a JobRequest), never by a job's name.
    calls = {
        str(path.relative_to(APP)): lines
        for path in APP.rglob("*.py")
        if path not in QUEUE_MODULES and (lines := _enqueue_calls(path))
    }
    assert calls == {}
