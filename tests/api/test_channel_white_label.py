"""Connecting an OTA without the iframe (issue 15): on a white-label account the service
creates the channel through the Channel API with a mapping built from our own ids, and
activates it; behind CHANNEX_WHITE_LABEL, off by default. Against the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.state import SandboxState
from app.settings import Settings
from channel_sync_client import ChannelSyncClient, ForbiddenError
from channel_sync_client import models as m
from tests.conftest import GLOBAL_KEY, ORG1_KEY
from tests.factories import onboard, seed_two_organizations
from tests.sandbox.servers import serve

CHANNELS = "/v1/properties/p-1/channels"
MAPPING = {"room_type_id": "dbl", "rate_plan_id": "bar", "ota_room_code": "R1",
           "ota_rate_code": "BAR1"}  # fmt: skip
BODY = {"ota": "BDC", "hotel_id": "1234567", "mappings": [MAPPING]}

Service = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[SandboxState, str]]:
    app = create_sandbox_app(SandboxConfig(api_key="wl-key"))
    async with serve(app) as url:
        yield app.state.sandbox, url


@pytest.fixture
def service(settings: Settings, sandbox: tuple[SandboxState, str]) -> Service:
    """The service wired to the sandbox, white-label or not, with the global key or another."""

    @asynccontextmanager
    async def make(*, white_label: bool, key: str = GLOBAL_KEY) -> AsyncIterator[httpx.AsyncClient]:
        update = {
            "channex_api_url": f"{sandbox[1]}/api/v1",
            "channex_api_key": SecretStr("wl-key"),
            "channex_white_label": white_label,
        }
        app: FastAPI = create_app(settings.model_copy(update=update))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://service", headers=headers
            ) as client:
                yield client

    return make


async def test_off_by_default_refuses_with_403_and_creates_nothing(
    service: Service, sandbox: tuple[SandboxState, str]
) -> None:
    assert Settings(_env_file=None).channex_white_label is False
    async with service(white_label=False) as api:
        await onboard(api)
        response = await api.post(CHANNELS, json=BODY)

        assert response.status_code == 403, response.text
        assert response.json()["code"] == "white_label_disabled"
        assert sandbox[0].store.channels == {}
        assert (await api.get(CHANNELS)).json() == []


async def test_on_the_channel_is_created_with_our_mapping_and_live(
    service: Service, sandbox: tuple[SandboxState, str]
) -> None:
    state, _ = sandbox
    async with service(white_label=True) as api:
        await onboard(api)
        prop = (await api.get("/v1/properties/p-1")).json()
        plan = (await api.get("/v1/properties/p-1/room-types/dbl/rate-plans/bar")).json()
        org = (await api.get("/v1/organizations/org-1")).json()

        response = await api.post(CHANNELS, json=BODY)

        assert response.status_code == 201, response.text
        read = response.json()
        [channel] = state.store.channels.values()
        assert read["channex_channel_id"] == channel.id
        assert (read["channel"], read["is_active"], read["state"]) == ("BookingCom", True, "live")
        assert read["title"] == "Booking.com Seaside Hotel"
        assert read["go_live"]["went_live_at"] is not None
        assert channel.group_id == org["channex_group_id"]
        assert channel.property_ids == [prop["channex_property_id"]]
        assert channel.attrs["settings"] == {"hotel_id": "1234567"}
        [mapped] = channel.attrs["rate_plans"]
        assert mapped["rate_plan_id"] == plan["channex_rate_plan_id"]
        assert mapped["settings"] == {"room_type_code": "R1", "rate_plan_code": "BAR1",
                                      "occupancy": 2}  # fmt: skip
        # Recorded as a read of the channels records it: listed, live.
        [listed] = (await api.get(CHANNELS)).json()
        assert (listed["channex_channel_id"], listed["state"]) == (channel.id, "live")


async def test_without_mappings_every_plan_in_channex_is_mapped_by_its_pms_ids(
    service: Service, sandbox: tuple[SandboxState, str]
) -> None:
    async with service(white_label=True) as api:
        await onboard(api)
        response = await api.post(CHANNELS, json={"ota": "EXP", "hotel_id": "42", "title": "E"})

        assert response.status_code == 201, response.text
        [channel] = sandbox[0].store.channels.values()
        assert (channel.attrs["channel"], channel.attrs["title"]) == ("Expedia", "E")
        [mapped] = channel.attrs["rate_plans"]
        assert mapped["settings"]["room_type_code"] == "dbl"
        assert mapped["settings"]["rate_plan_code"] == "bar"


@pytest.mark.parametrize(
    "wrong",
    [{"rate_plan_id": "nope"}, {"room_type_id": "nope"}],
    ids=["unknown rate plan", "unknown room type"],
)
async def test_an_unmapped_rate_plan_is_422_and_nothing_is_created(
    service: Service, sandbox: tuple[SandboxState, str], wrong: dict[str, str]
) -> None:
    async with service(white_label=True) as api:
        await onboard(api)
        body = {**BODY, "mappings": [MAPPING, {**MAPPING, **wrong}]}

        response = await api.post(CHANNELS, json=body)

        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "validation_error"
        assert [e["loc"] for e in problem["errors"]] == ["body.mappings.1.rate_plan_id"]
        assert sandbox[0].store.channels == {}


async def test_an_organization_s_key_reaches_only_its_own_properties(
    service: Service, sandbox: tuple[SandboxState, str]
) -> None:
    async with service(white_label=True) as api:
        await seed_two_organizations(api)
    async with service(white_label=True, key=ORG1_KEY) as org1:
        other = await org1.post("/v1/properties/p-2/channels", json=BODY)

        assert other.status_code == 404, other.text
        assert sandbox[0].store.channels == {}


async def test_the_client_connects_and_reports_the_refusal_when_off(
    service: Service, sandbox: tuple[SandboxState, str]
) -> None:
    body = m.ChannelCreate(ota="BDC", hotel_id="1234567")
    async with service(white_label=False) as api, ChannelSyncClient(http=api) as pms:
        await onboard(api)
        with pytest.raises(ForbiddenError) as raised:
            await pms.create_channel("p-1", body)
        assert raised.value.code == "white_label_disabled"
    async with service(white_label=True) as api, ChannelSyncClient(http=api) as pms:
        channel = await pms.create_channel("p-1", body)

        assert (channel.channel, channel.is_active) == ("BookingCom", True)
        assert list(sandbox[0].store.channels) == [channel.channex_channel_id]
