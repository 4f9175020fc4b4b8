"""Liveness and readiness."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings


async def test_ready_reports_each_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert set(body["checks"]) == {"database", "channex_config"}
    assert body["checks"]["database"]["ok"] is True


async def test_ready_is_503_when_channex_key_is_missing(settings: Settings) -> None:
    app: FastAPI = create_app(settings.model_copy(update={"channex_api_key": None}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health/ready")
    assert response.status_code == 503
    check = response.json()["checks"]["channex_config"]
    assert check == {"ok": False, "detail": "CHANNEX_API_KEY is not set"}


async def test_ready_checks_redis_when_configured(settings: Settings, redis_url: str) -> None:
    app = create_app(settings.model_copy(update={"redis_url": redis_url}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = (await client.get("/health/ready")).json()
    assert body["checks"]["redis"] == {"ok": True, "detail": None}


async def test_ready_fails_when_redis_is_unreachable(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False
