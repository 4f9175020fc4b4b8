"""End to end over real HTTP: the service onboards a hotel into the sandbox, on both
databases, and re-running the whole onboarding changes nothing in Channex."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.state import SandboxState
from app.settings import Settings
from tests.conftest import GLOBAL_KEY
from tests.factories import onboard
from tests.sandbox.servers import serve


@pytest.fixture
async def sandbox_state() -> AsyncIterator[tuple[SandboxState, str]]:
    app = create_sandbox_app(SandboxConfig(api_key="e2e-key"))
    async with serve(app) as url:
        yield app.state.sandbox, url


@pytest.fixture
async def service(
    settings: Settings, sandbox_state: tuple[SandboxState, str]
) -> AsyncIterator[httpx.AsyncClient]:
    _, url = sandbox_state
    wired = settings.model_copy(
        update={"channex_api_url": f"{url}/api/v1", "channex_api_key": SecretStr("e2e-key")}
    )
    app: FastAPI = create_app(wired)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {GLOBAL_KEY}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://service", headers=headers
        ) as client:
            yield client


async def test_onboarding_reaches_the_sandbox_once(
    service: httpx.AsyncClient, sandbox_state: tuple[SandboxState, str]
) -> None:
    state, _ = sandbox_state
    await onboard(service)
    await onboard(service)

    store = state.store
    assert [len(store.groups), len(store.properties), len(store.room_types)] == [1, 1, 1]
    assert len(store.rate_plans) == 1
    prop = (await service.get("/v1/properties/p-1")).json()
    org = (await service.get("/v1/organizations/org-1")).json()
    assert prop["channex_property_id"] in store.properties
    assert org["channex_group_id"] in store.groups
    room = (await service.get("/v1/properties/p-1/room-types/dbl")).json()
    assert store.room_types[room["channex_room_type_id"]].property_id == prop["channex_property_id"]
    listed = (await service.get("/v1/properties/p-1/channex/rate-plans")).json()
    assert [r["mapped_rate_plan_id"] for r in listed] == ["bar"]
