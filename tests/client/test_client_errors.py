"""The client against the app in process (Channex a respx fake): each error answer comes back
as its typed exception with the problem's code, and the offset pages iterate to the end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from channel_sync_client import (
    ChannelSyncClient,
    ChannexUnavailableError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    UnauthorizedError,
    ValidationFailedError,
)
from channel_sync_client import models as m
from tests.factories import onboard
from tests.fake_channex import FakeChannex


@pytest.fixture
async def pms(client: httpx.AsyncClient) -> AsyncIterator[ChannelSyncClient]:
    async with ChannelSyncClient(http=client) as pms:
        yield pms


async def test_an_unknown_organization_is_not_found(pms: ChannelSyncClient) -> None:
    with pytest.raises(NotFoundError) as raised:
        await pms.get_organization("nobody")
    assert (raised.value.status, raised.value.code) == (404, "not_found")
    assert raised.value.problem.instance == "/v1/organizations/nobody"


async def test_a_bad_cursor_is_a_validation_error_naming_the_field(
    pms: ChannelSyncClient,
) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        await pms.list_booking_revisions(after="garbage!")
    assert raised.value.code == "validation_error"
    assert [(e.loc, e.message) for e in raised.value.errors] == [
        ("query.after", "not a cursor from this feed")
    ]


async def test_a_property_of_a_disconnected_organization_is_a_conflict(
    client: httpx.AsyncClient, pms: ChannelSyncClient
) -> None:
    await onboard(client)
    await pms.disconnect_organization("org-1")
    body = m.PropertyPut(organization_id="org-1", title="Annex", currency="EUR")
    with pytest.raises(ConflictError) as raised:
        await pms.put_property("p-2", body)
    assert (raised.value.status, raised.value.code) == (409, "organization_disconnected")


async def test_an_unknown_key_is_unauthorized(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": "Bearer not-a-key"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
        with pytest.raises(UnauthorizedError) as raised:
            await ChannelSyncClient(http=http).list_organizations()
    assert raised.value.code == "unauthorized"


async def test_channex_down_is_channex_unavailable_with_retry_after(
    client: httpx.AsyncClient, pms: ChannelSyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    channex.fail_next.extend(httpx.Response(503) for _ in range(10))
    with pytest.raises(ChannexUnavailableError) as raised:
        await pms.put_organization("org-1", m.OrganizationPut(title="Renamed"))
    assert isinstance(raised.value, ServiceUnavailableError)
    assert (raised.value.status, raised.value.code) == (503, "channex_unavailable")
    assert raised.value.retry_after == 30.0


async def test_offset_pages_iterate_every_organization_once(pms: ChannelSyncClient) -> None:
    for n in range(5):
        await pms.put_organization(f"org-{n}", m.OrganizationPut(title=f"Hotels {n}"))
    first = await pms.list_organizations(limit=2)
    seen = [org.id async for org in pms.iter_organizations(limit=2)]
    assert (first.total, first.next_offset, len(first.items)) == (5, 2, 2)
    assert seen == [f"org-{n}" for n in range(5)]
