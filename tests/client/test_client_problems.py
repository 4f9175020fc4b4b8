"""How an answer becomes an exception when the service's code alone does not decide it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from channel_sync_client import (
    ChannelSyncClient,
    ChannelSyncError,
    ChannexRateLimitedError,
    ChannexRejectedError,
    ClientError,
    RateLimitedError,
    ServerError,
)
from channel_sync_client.errors import error_for, retry_after_seconds


def problem(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"type": f"urn:channel-sync:problem:{code}", "title": "t", "status": status,
            "code": code, "instance": "/v1/x"}  # fmt: skip
    return httpx.Response(
        status,
        json=body,
        headers={"content-type": "application/problem+json", **headers},
        request=httpx.Request("GET", "http://t/v1/x"),
    )


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (503, "channex_rate_limited", ChannexRateLimitedError),
        (422, "channex_rejected", ChannexRejectedError),
        (429, "too_many_failures", RateLimitedError),
        (418, "teapot", ClientError),
        (500, "internal_error", ServerError),
    ],
)
def test_the_code_decides_then_the_status_then_the_family(
    status: int, code: str, expected: type[ChannelSyncError]
) -> None:
    error = error_for(problem(status, code, **{"retry-after": "7"}))
    assert type(error) is expected
    assert (error.status, error.code, error.retry_after) == (status, code, 7.0)


def test_an_answer_that_is_not_problem_json_keeps_its_status() -> None:
    response = httpx.Response(
        502, text="<html>bad gateway</html>", request=httpx.Request("GET", "http://t/")
    )
    error = error_for(response)
    assert isinstance(error, ServerError)
    assert (error.status, error.code) == (502, "unexpected_response")


def test_retry_after_as_an_http_date_is_seconds_from_now() -> None:
    now = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Mon, 01 Jun 2026 12:00:45 GMT", now) == 45.0
    assert retry_after_seconds("Mon, 01 Jun 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


async def test_readiness_is_an_answer_on_503_too() -> None:
    body = {
        "ready": False,
        "checks": {"database": {"ok": False, "detail": "down"}},
        "warnings": [],
        "backlog": None,  # not read while the database is down
    }
    transport = httpx.MockTransport(lambda _: httpx.Response(503, json=body))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        readiness = await ChannelSyncClient(http=http).ready()
    assert readiness.ready is False
    assert readiness.checks["database"].detail == "down"
