"""What the Docker image does, without Docker: the wheel installed (not editable) in a fresh
virtualenv, its `channel-sync` commands run from a directory that is not the checkout, with
the sandbox (`channel-sync sandbox`) as Channex. PostgreSQL + Redis: migrate, serve and a
worker; the embedded default: serve alone, which migrates its SQLite file by itself. Either
way an ARI change reaches Channex and a booking made there reaches the PMS feed."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from app.serving import free_port
from tests.e2e.deployment import (
    day,
    ok,
    pms_client,
    sandbox_clients,
    service_env,
    start_api,
    start_sandbox,
    webhook_registered,
)
from tests.e2e.installed import (
    Installed,
    base_env,
    fresh_postgres_database,
    fresh_redis_namespace,
)
from tests.e2e.processes import Process, Processes, eventually, processes
from tests.factories import (
    OnboardedHotel,
    book_in_sandbox,
    connect_booking_com,
    onboard_property,
)

pytestmark = pytest.mark.slow

FLOW_SECONDS = 60.0  # a hang guard; each step takes a second or two


@asynccontextmanager
async def production_backends() -> AsyncIterator[dict[str, str]]:
    """DATABASE_URL, REDIS_URL and REDIS_NAMESPACE of a fresh database and namespace."""
    async with fresh_postgres_database() as database_url, fresh_redis_namespace() as redis:
        redis_url, namespace = redis
        yield {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "REDIS_NAMESPACE": namespace}


async def start_service(
    group: Processes, installed: Installed, port: int, backend: str
) -> list[Process]:
    """The service as the image runs it: PostgreSQL needs `migrate` first and a worker."""
    if backend == "sqlite":
        return [await start_api(group, installed.cli, port)]
    await group.run("migrate", [installed.cli, "migrate"], FLOW_SECONDS)
    worker = group.start("worker", [installed.cli, "worker"])
    return [worker, await start_api(group, installed.cli, port)]


async def check_ari_reaches_channex(
    api: httpx.AsyncClient, tools: httpx.AsyncClient, hotel: OnboardedHotel, running: list[Process]
) -> None:
    first, last = day(7), day(20)
    item = {
        "type": "availability",
        "room_type_id": "dbl",
        "date_from": first.isoformat(),
        "date_to": last.isoformat(),
        "availability": 3,
    }
    ok(await api.post(f"/v1/properties/{hotel.property_id}/ari", json={"items": [item]}))

    async def held() -> bool:
        params = {"property_id": hotel.channex_property_id}
        ari = ok(await tools.get("/ari", params=params))["data"]["availability"]
        cells = ari.get(hotel.channex_room_type_id, {})
        return bool(cells.get(first.isoformat()) == 3 and cells.get(last.isoformat()) == 3)

    await eventually(held, "the availability in the sandbox", FLOW_SECONDS, running)


async def check_booking_reaches_the_feed(
    api: httpx.AsyncClient, tools: httpx.AsyncClient, hotel: OnboardedHotel, running: list[Process]
) -> None:
    booked = await book_in_sandbox(tools, hotel, arrival=10)
    feed: list[dict[str, object]] = []

    async def in_the_feed() -> bool:
        feed[:] = ok(await api.get("/v1/bookings/revisions"))["items"]
        return any(r["id"] == booked["revision_id"] for r in feed)

    await eventually(in_the_feed, "the booking in the PMS feed", FLOW_SECONDS, running)
    [revision] = feed
    assert (revision["booking_id"], revision["status"], revision["property_id"]) == (
        booked["booking_id"],
        "new",
        hotel.property_id,
    )


async def check_docs_pages(api: httpx.AsyncClient) -> None:
    """/docs and /redoc with their assets: the wheel's own scripts (app/docs_assets) and
    fastapi-offline's bundles, installed as a dependency (the browser test shows they work)."""
    assets = ("swagger-init.js", "swagger-ui-bundle.js", "redoc-init.js", "redoc.standalone.js")
    for path in ("/docs", "/redoc", *(f"/docs-assets/{name}" for name in assets)):
        assert (await api.get(path)).status_code == 200, path


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
async def test_the_installed_wheel_serves_from_any_directory(
    backend: str, installed: Installed, tmp_path: Path
) -> None:
    cwd = tmp_path / "run"
    cwd.mkdir()
    sandbox_port, api_port = free_port(), free_port()
    public_url = f"http://127.0.0.1:{api_port}"
    env = {**base_env(tmp_path), **service_env(sandbox_port, public_url)}
    async with production_backends() if backend == "postgresql" else _nothing() as backends:
        env.update(backends)
        with processes(cwd, env, tmp_path / "logs") as group:
            sandbox = await start_sandbox(group, installed.cli, sandbox_port)
            running = [sandbox, *await start_service(group, installed, api_port, backend)]
            channex, tools = sandbox_clients(sandbox_port)
            async with pms_client(api_port) as api, channex, tools:
                await check_docs_pages(api)
                hotel = await onboard_property(api, "org-1", "p-1")
                await check_ari_reaches_channex(api, tools, hotel, running)

                async def registered() -> bool:
                    return await webhook_registered(channex, public_url)

                await eventually(registered, "the webhook registered", FLOW_SECONDS, running)
                await connect_booking_com(tools, hotel)
                await check_booking_reaches_the_feed(api, tools, hotel, running)
            exits = group.stop_all()
    # SIGTERM stops every process, none had to be killed (uvicorn re-raises the signal once
    # it has shut down, hence -15).
    assert set(exits.values()) <= {0, -signal.SIGTERM}, exits
    if backend == "sqlite":
        assert (cwd / "channel-sync.db").is_file()  # the default: a file in the working dir


@asynccontextmanager
async def _nothing() -> AsyncIterator[dict[str, str]]:
    """The embedded default: no DATABASE_URL, no REDIS_URL."""
    yield {}
