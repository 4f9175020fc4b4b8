"""Adversarial: no secret reaches the logs at any level, DEBUG included (the database drivers
log statement parameters at DEBUG: the PMS signing secret among them, unless held back)."""

from __future__ import annotations

import io
import logging

import httpx
import pytest

from app.settings import Settings
from tests import log_capture
from tests.conftest import GLOBAL_KEY
from tests.fake_channex import API_KEY as CHANNEX_KEY


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No personal-data key (so the signing secret is stored as it is, the worst case) and a
    # callback host that resolves nowhere, which only this flag lets through.
    return settings.model_copy(update={"allow_private_callbacks": True})


debug_logs = log_capture.debug_logs


async def test_a_debug_run_logs_no_secret(
    debug_logs: io.StringIO, client: httpx.AsyncClient
) -> None:
    response = await client.put("/v1/organizations/org-1", json={"title": "Seaside Hotels"})
    assert response.status_code == 200, response.text
    endpoint = await client.put(
        "/v1/organizations/org-1/booking-endpoint", json={"url": "https://pms.test/hook"}
    )
    assert endpoint.status_code == 200, endpoint.text
    secret = endpoint.json()["secret"]

    logging.getLogger("app.probe").debug("probe line")
    logged = debug_logs.getvalue()
    assert "DEBUG app.probe probe line" in logged  # DEBUG lines were written
    for value in (secret, secret.removeprefix("whsec_"), GLOBAL_KEY, CHANNEX_KEY):
        assert value not in logged
