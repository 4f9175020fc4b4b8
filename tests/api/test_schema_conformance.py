"""Adversarial: schemathesis drives every operation of the OpenAPI document against the live
service (real HTTP, the Channex sandbox mounted beside it), with valid and invalid input, and
every answer must be one the document describes — status, content type, headers and body —
and never a 5xx but the documented 503s. (Valid data may still be refused: a business rule
such as an unknown Channex id is a 422 the schema cannot express, so schemathesis's
positive-data check is left out.) A bounded run: a few examples per operation and mode,
once with made-up ids and once with the ids of an onboarded property."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation

from app.main import create_app
from app.sandbox import app as sandbox_app
from app.sandbox_mode import sandbox_settings
from app.serving import free_port, serving
from app.settings import Settings
from tests.conftest import GLOBAL_KEY
from tests.factories import onboard

EXAMPLES = 8
KNOWN_IDS = {"org_id": "org-1", "property_id": "p-1", "room_type_id": "dbl", "rate_plan_id": "bar"}
AUTH = {"Authorization": f"Bearer {GLOBAL_KEY}"}


def _operations(document: dict[str, Any]) -> Iterator[APIOperation[Any, Any, Any, Any]]:
    schema = schemathesis.openapi.from_dict(document)
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is broken: say so
        yield result.ok()


def _failures_of(
    operation: APIOperation[Any, Any, Any, Any], base_url: str, known: bool
) -> list[str]:
    """Every distinct failure schemathesis finds on one operation, as text."""
    found: dict[str, str] = {}
    session = requests.Session()
    ids = {k: v for k, v in KNOWN_IDS.items() if known and k in operation.path}
    modes = st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    strategy = modes.flatmap(lambda mode: operation.as_strategy(mode, path_parameters=ids))

    @examples(
        max_examples=EXAMPLES * 2,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: schemathesis.Case[Any]) -> None:
        try:
            case.call_and_validate(
                base_url=base_url,
                session=session,
                headers=AUTH,
                excluded_checks=[positive_data_acceptance],
                timeout=30,
            )
        except (AssertionError, FailureGroup) as failure:
            text = str(failure)
            key = f"{operation.label}: {text[:300]}"
            found.setdefault(key, f"{operation.label}: {text}")

    run()
    return list(found.values())


async def test_every_answer_is_in_the_document(settings: Settings) -> None:
    sandbox = sandbox_app.create_sandbox_app()
    port = free_port()
    wired = sandbox_settings(settings, sandbox, port=port)
    app = create_app(wired, sandbox=sandbox)
    async with serving(app, port) as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH, timeout=30) as client:
            await onboard(client)
        failures: list[str] = []
        for operation in _operations(app.openapi()):
            for known in (False, True):
                failures += await asyncio.to_thread(_failures_of, operation, base_url, known)
    assert not failures, "\n\n".join(failures)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"auth_failures_per_minute": 1_000_000})
