"""One access line per request with method, route, status, duration and request id; the id is
the caller's X-Request-ID (when sane) or generated, echoed back, and on every line logged
while the request runs."""

from __future__ import annotations

import logging

import httpx
import pytest

from app.logs import RequestIdFilter


@pytest.fixture
def access(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())  # as configure_logging installs it
    return caplog


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "app.access"]


async def test_a_request_gets_one_access_line_with_its_route_template_and_id(
    client: httpx.AsyncClient, access: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/v1/organizations/org-9", headers={"X-Request-ID": "pms-call-42"})

    assert response.status_code == 404
    assert response.headers["x-request-id"] == "pms-call-42"
    [line] = _access_lines(access)
    fields = line.__dict__
    assert (fields["method"], fields["route"], fields["status"]) == (
        "GET", "/v1/organizations/{org_id}", 404,
    )  # fmt: skip
    assert fields["request_id"] == "pms-call-42"
    assert fields["duration_ms"] >= 0
    assert "org-9" not in line.getMessage()  # the template, not the id in the path


async def test_an_id_is_generated_when_none_or_an_unsafe_one_is_given(
    client: httpx.AsyncClient, access: pytest.LogCaptureFixture
) -> None:
    plain = await client.get("/health/live")
    forged = await client.get("/health/live", headers={"X-Request-ID": "a b\r\nX-Evil: 1"})

    ids = [plain.headers["x-request-id"], forged.headers["x-request-id"]]
    assert all(len(rid) == 32 for rid in ids)
    assert ids[0] != ids[1]
    assert [r.__dict__["request_id"] for r in _access_lines(access)] == ids


async def test_lines_logged_during_a_request_carry_its_id(
    client: httpx.AsyncClient, access: pytest.LogCaptureFixture
) -> None:
    # Channex is called while the PUT runs: its transport's line belongs to the request.
    response = await client.put(
        "/v1/organizations/org-1", json={"title": "Seaside"}, headers={"X-Request-ID": "r-7"}
    )

    assert response.status_code == 200
    inside = [r for r in access.records if r.name == "app.channex.transport"]
    assert inside
    assert {r.__dict__.get("request_id") for r in inside} == {"r-7"}


async def test_a_refused_request_is_logged_too(
    client: httpx.AsyncClient, access: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/v1/organizations", headers={"Authorization": "Bearer nope"})

    assert response.status_code == 401
    [line] = _access_lines(access)
    assert line.__dict__["status"] == 401
