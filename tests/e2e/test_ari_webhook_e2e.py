"""End to end over real HTTP, on both databases: the sandbox fires real `ari` webhooks for every
write (ours and those made inside Channex); a change made inside Channex is found by the drift
check those webhooks trigger and, with repair on, the sandbox converges to the desired state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from app.main import create_app
from app.models import AriState, WebhookEvent
from app.resources import Resources
from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.state import SandboxState
from app.services.webhook_registration import ensure_webhook
from app.settings import Settings
from tests.conftest import FAST_RATE_LIMIT_PER_MINUTE, GLOBAL_KEY
from tests.e2e.ari_support import Desired, Json, apply, channex_ids, local_today, mismatches, ok
from tests.factories import onboard_ari_hotel as onboard_hotel
from tests.sandbox.servers import serve
from tests.waiting import eventually

TIMEZONE = "Europe/Lisbon"
SANDBOX_KEY = "ari-webhook-e2e-key"
SECRET = "ari-webhook-secret"


async def until(
    check: Callable[[], bool | Awaitable[bool]], what: str, seconds: float = 30.0
) -> None:
    """Poll an async or plain predicate until it holds."""
    try:
        await eventually(check, seconds, poll=0.1)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def ari_deliveries(sandbox: SandboxState) -> list[Json]:
    return [d for d in sandbox.store.deliveries if d["event"] == "ari"]


async def test_a_change_inside_channex_is_found_by_its_ari_webhook_and_repaired(
    settings: Settings,
) -> None:
    config = SandboxConfig(
        api_key=SANDBOX_KEY, rate_limit_per_minute=FAST_RATE_LIMIT_PER_MINUTE, seed=5
    )
    sandbox_app = create_sandbox_app(config)
    sandbox: SandboxState = sandbox_app.state.sandbox
    async with serve(sandbox_app) as sandbox_url:
        # CHANNEX_USER_ID unset: the sandbox's one API user makes both our pushes and the
        # "inside Channex" edits below, so every event is checked (coalesced per property).
        service_settings = settings.model_copy(
            update={
                "channex_api_url": f"{sandbox_url}/api/v1",
                "channex_api_key": SecretStr(SANDBOX_KEY),
                "channex_webhook_secret": SecretStr(SECRET),
                "ari_webhook_drift_delay_seconds": 0.5,
                "ari_nightly_drift_repair": True,
                "ari_nightly_drift_check": False,  # only the webhook's check may repair here
            }
        )
        app = create_app(service_settings)
        headers = {"Authorization": f"Bearer {GLOBAL_KEY}"}
        async with (
            serve(app) as service_url,
            httpx.AsyncClient(base_url=service_url, headers=headers, timeout=30) as api,
            httpx.AsyncClient(
                base_url=f"{sandbox_url}/api/v1", headers={"user-api-key": SANDBOX_KEY}
            ) as direct,
            httpx.AsyncClient(base_url=f"{sandbox_url}/sandbox") as tools,
        ):
            resources: Resources = app.state.resources
            assert resources.channex is not None
            registered = service_settings.model_copy(update={"public_base_url": service_url})
            assert await ensure_webhook(resources.channex, registered) == "created"
            (hook,) = sandbox.store.webhooks.values()
            assert "ari" in str(hook.attrs["event_mask"]).split(";")

            property_id = await onboard_hotel(api, TIMEZONE)
            ids = await channex_ids(api)
            start = local_today(TIMEZONE)
            days = [(start + timedelta(days=n)).isoformat() for n in range(10)]
            target = {"room_type_id": "dbl", "date_from": days[0], "date_to": days[9]}
            items: list[Json] = [
                {"type": "availability", **target, "availability": 5},
                {"type": "restrictions", **target, "rate_plan_id": "bar", "rate": "100.00"},
            ]
            desired: Desired = {}
            for item in items:
                apply(desired, item)
            await ok(await api.post("/v1/properties/p-1/ari", json={"items": items}))

            async def settled() -> bool:
                await resources.queue.wait_idle(30)  # type: ignore[attr-defined]
                async with resources.session_factory() as session:
                    pending = await session.execute(
                        select(WebhookEvent.id).where(WebhookEvent.status == "pending")
                    )
                    spans = await session.execute(
                        select(AriState).where(AriState.drift_pending_from.is_not(None))
                    )
                    return pending.first() is None and spans.first() is None

            # Our own pushes fire `ari` events too: checked, and nothing is found.
            await until(lambda: len(ari_deliveries(sandbox)) >= 2, "our pushes' ari events")
            await until(settled, "the service to settle")
            assert await mismatches(tools, property_id, ids, desired) == []
            pushes = len((await ok(await api.get("/v1/properties/p-1/sync-runs")))["items"])

            # Someone edits inside Channex.
            room, plan = ids[("dbl", "")], ids[("dbl", "bar")]
            cell = {"property_id": property_id, "date": days[4]}
            await ok(await direct.post("/availability", json={"values": [
                {**cell, "room_type_id": room, "availability": 1}]}))  # fmt: skip
            await ok(await direct.post("/restrictions", json={"values": [
                {**cell, "rate_plan_id": plan, "rate": "150.00"}]}))  # fmt: skip
            assert await mismatches(tools, property_id, ids, desired) != []

            await until(_converged(tools, property_id, ids, desired), "the sandbox to converge")
            await until(settled, "the service to settle")

            runs = (await ok(await api.get("/v1/properties/p-1/sync-runs")))["items"]
            repairs = runs[: len(runs) - pushes]
            assert sorted(run["values_count"] for run in repairs) == [1, 1]  # one cell each
            stats = (await ok(await tools.get("/stats")))["data"]
            reads = stats["GET /availability"]["requests"]
            # Coalesced: never more checks than `ari` events, each check two reads.
            assert 1 <= reads <= len(ari_deliveries(sandbox))
            assert stats["GET /availability"]["rate_limited"] == 0


def _converged(
    tools: httpx.AsyncClient, property_id: str, ids: dict[tuple[str, str], str], desired: Desired
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await mismatches(tools, property_id, ids, desired) == []

    return check
