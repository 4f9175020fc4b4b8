"""The whole flow over real HTTP: the sandbox mounted in another app, served by uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app.sandbox import server
from app.sandbox.app import create_sandbox_app, start, stop
from app.sandbox.config import SandboxConfig
from tests.factories import day, make_hotel, make_webhook
from tests.sandbox.servers import Receiver, serve


def host_app() -> FastAPI:
    """A service that mounts the sandbox at `/channex-sandbox` and drives its lifespan."""
    sandbox = create_sandbox_app(SandboxConfig(api_key="k", time_scale=0.001))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await start(sandbox)
        yield
        await stop(sandbox)

    app = FastAPI(lifespan=lifespan)
    app.mount("/channex-sandbox", sandbox)
    return app


async def test_booking_flow_over_real_http_with_mounted_sandbox(receiver: Receiver) -> None:
    async with serve(host_app()) as base_url:
        root = f"{base_url}/channex-sandbox"
        headers = {"user-api-key": "k"}
        async with (
            httpx.AsyncClient(base_url=f"{root}/api/v1", headers=headers) as api,
            httpx.AsyncClient(base_url=f"{root}/sandbox") as tools,
        ):
            assert (await api.get("/groups", headers={"user-api-key": "x"})).status_code == 401
            hotel = await make_hotel(api)
            await make_webhook(
                api, hotel, receiver.url, event_mask="booking", is_active=True, send_data=True
            )
            value = {"property_id": hotel.property_id, "room_type_id": hotel.room_type_id}
            avail = await api.post(
                "/availability", json={"values": [{**value, "date": day(3), "availability": 2}]}
            )
            assert avail.status_code == 200
            await tools.post(
                f"/properties/{hotel.property_id}/channels", json={"channel": "BookingCom"}
            )
            body = {
                "channel": "BookingCom",
                "room_type_id": hotel.room_type_id,
                "rate_plan_id": hotel.rate_plan_id,
                "arrival_date": day(3),
                "departure_date": day(4),
            }
            await tools.post(f"/properties/{hotel.property_id}/bookings", json=body)
            (delivery,) = await receiver.wait_for(1)
            revision_id = delivery.body["payload"]["revision_id"]
            revision = (await api.get(f"/booking_revisions/{revision_id}")).json()["data"]
            assert revision["attributes"]["status"] == "new"
            assert (await api.post(f"/booking_revisions/{revision_id}/ack")).status_code == 200
            assert (await api.get("/booking_revisions/feed")).json()["data"] == []
            ari = (await tools.get("/ari", params={"property_id": hotel.property_id})).json()
            assert ari["data"]["availability"] == {hotel.room_type_id: {day(3): 1}}
            await tools.put("/faults", json={"force_429": 1})
            assert (await api.get("/groups")).status_code == 429  # faults work when mounted
            assert (await api.get("/groups")).status_code == 200


def test_run_serves_a_fresh_sandbox_with_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, str, int]] = []

    def fake_run(app: object, *, host: str, port: int) -> None:
        calls.append((app, host, port))

    monkeypatch.setattr(uvicorn, "run", fake_run)
    server.run(port=9999, config=SandboxConfig(api_key="abc"))
    ((app, host, port),) = calls
    assert (host, port) == ("127.0.0.1", 9999)
    assert isinstance(app, FastAPI)
    assert app.state.sandbox.config.api_key == "abc"
