"""A channel-sync deployment made of `channel-sync` processes (API, workers, the sandbox as
its Channex), as the installed-wheel, scale-out and fault tests drive it: the environment
the processes get, starting them, onboarding hotels, booking through the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from tests.e2e.processes import Process, Processes, wait_for_http

Json = dict[str, Any]
PMS_KEY = "e2e-pms-key"
SANDBOX_KEY = "sandbox-key"
START_SECONDS = 90.0  # two cores shared by every process starting at once


def service_env(sandbox_port: int, public_url: str) -> dict[str, str]:
    """Settings of the service processes: Channex is the sandbox on `sandbox_port`, which
    posts its webhooks to `public_url`; sweeps and feed reconciliation run every second or
    two so that lost work shows quickly."""
    return {
        "CHANNEX_API_URL": f"http://127.0.0.1:{sandbox_port}/api/v1",
        "CHANNEX_API_KEY": SANDBOX_KEY,
        "CHANNEX_WEBHOOK_SECRET": "e2e-webhook-secret",
        "PUBLIC_BASE_URL": public_url,
        "ALLOW_PRIVATE_CALLBACKS": "true",
        "API_KEYS": json.dumps([{"name": "pms", "key": PMS_KEY}]),
        "PERSONAL_DATA_KEYS": json.dumps([Fernet.generate_key().decode()]),
        "SWEEP_INTERVAL_SECONDS": "1",
        "BOOKING_RECONCILE_INTERVAL_SECONDS": "2",
    }


async def start_sandbox(group: Processes, cli: Path, port: int) -> Process:
    process = group.start("sandbox", [cli, "sandbox", "--port", str(port)])
    await wait_for_http(f"http://127.0.0.1:{port}/sandbox/faults", process, START_SECONDS)
    return process


async def start_api(group: Processes, cli: Path, port: int, name: str = "api") -> Process:
    """`channel-sync serve` on `port`, once it reports ready (database, Redis, Channex)."""
    process = group.start(name, [cli, "serve", "--port", str(port)])
    await wait_for_http(f"http://127.0.0.1:{port}/health/ready", process, START_SECONDS)
    return process


def pms_client(port: int) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {PMS_KEY}"}
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30)


def sandbox_clients(port: int) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    """(the sandbox's Channex API, its /sandbox tools)."""
    base = f"http://127.0.0.1:{port}"
    api = httpx.AsyncClient(
        base_url=f"{base}/api/v1", headers={"user-api-key": SANDBOX_KEY}, timeout=30
    )
    return api, httpx.AsyncClient(base_url=f"{base}/sandbox", timeout=30)


def ok(response: httpx.Response) -> Json:
    assert response.is_success, f"{response.request.url}: {response.status_code} {response.text}"
    body: Json = response.json()
    return body


async def webhook_registered(channex: httpx.AsyncClient, public_url: str) -> bool:
    """Whether the service registered its Channex webhook at `public_url` in the sandbox."""
    hooks = ok(await channex.get("/webhooks"))["data"]
    return any(h["attributes"]["callback_url"].startswith(public_url) for h in hooks)


def day(offset: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=offset)
