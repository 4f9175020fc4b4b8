"""Adversarial webhook bodies: whatever comes with the right secret, up to the cap, is stored
as received (malformed when it cannot be used) and answered 200, never a 5xx, on both
databases, and the work done in the request stays bounded."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.domain.revisions import MAX_WEBHOOK_CONTAINERS
from app.models import WebhookEvent
from tests import booking_fakes
from tests.api.test_webhooks import HOOK, SECRET, resources

# The booking fakes' settings: the conftest's, plus the webhook secret.
settings = booking_fakes.settings


async def _stored(app: FastAPI) -> list[WebhookEvent]:
    async with resources(app).session_factory() as session:
        return list((await session.execute(select(WebhookEvent))).scalars())


async def test_a_body_nested_deeper_than_the_parser_goes_is_stored_malformed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    depth = MAX_WEBHOOK_CONTAINERS // 2  # under the count, far over the parser's depth
    deep = b"[" * depth + b"]" * depth
    response = await client.post(HOOK, content=deep, headers=SECRET)

    assert response.status_code == 200
    [event] = await _stored(app)
    assert (event.status, event.note, len(event.body)) == (
        "malformed",
        "nested too deep",
        2 * depth,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"event": "booking\u0000", "payload": {"revision_id": "r-1"}},
        {"event": "booking", "property_id": "p\u0000", "payload": {"revision_id": "r-1"}},
        {"event": "booking", "payload": {"revision_id": "r\u0000"}},
    ],
    ids=["event", "property_id", "revision_id"],
)
async def test_nul_in_a_stored_field_is_malformed_not_a_5xx(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await client.post(HOOK, content=json.dumps(body).encode(), headers=SECRET)

    assert response.status_code == 200
    [event] = await _stored(app)
    assert (event.status, event.note) == ("malformed", "NUL in an id")
    assert json.loads(event.body) == body  # as received: the escape is kept as text


async def test_raw_nul_bytes_are_stored_as_replacement_characters(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post(HOOK, content=b'{"event": "x\x00y"}', headers=SECRET)

    assert response.status_code == 200
    [event] = await _stored(app)
    assert (event.status, event.body) == ("malformed", '{"event": "x\ufffdy"}')


async def test_a_body_of_too_many_objects_is_stored_unparsed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    many = {"event": "booking", "payload": {"rooms": [{}] * (MAX_WEBHOOK_CONTAINERS + 1)}}
    raw = json.dumps(many, separators=(",", ":")).encode()
    response = await client.post(HOOK, content=raw, headers=SECRET)

    assert response.status_code == 200
    [event] = await _stored(app)
    assert event.status == "malformed"
    assert event.note == f"over {MAX_WEBHOOK_CONTAINERS} JSON objects and arrays, not parsed"
    assert event.body.encode() == raw
