"""Webhook delivery: real HTTP POSTs with Channex's retry schedule (channex-api.md §8.3, §8.4)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from app.sandbox.state import Delivery, SandboxState, Webhook

logger = logging.getLogger(__name__)

# Waits before each retry after a 5xx or a failed connection (§8.4), in minutes of Channex time.
RETRY_MINUTES = (1, 2, 4, 8, 15, 30, 60, 120, 240, 360, 600)
# Real seconds a delivery is held by the reorder fault when no other one comes to overtake it.
REORDER_HOLD_SECONDS = 0.5


def _events(webhook: Webhook) -> set[str]:
    """Events of the mask; an `ari:<restrictions>:<rooms>:<rates>` filter counts as `ari` (§8.1)."""
    return {part.split(":")[0] for part in str(webhook.attrs["event_mask"]).split(";")}


def _pick(webhook: Webhook, candidates: Sequence[str]) -> str | None:
    """The first candidate event the webhook's mask lets through (`*` takes the first)."""
    events = _events(webhook)
    if "*" in events:
        return candidates[0]
    return next((event for event in candidates if event in events), None)


def matching(
    state: SandboxState, candidates: Sequence[str], property_id: str | None
) -> list[tuple[Webhook, str]]:
    """Active webhooks for the event; a property-level one wins over a global one (§8.1)."""
    active = [w for w in state.store.webhooks.values() if w.attrs["is_active"]]
    local = [
        (w, e)
        for w in active
        if w.attrs["property_id"] == property_id
        if (e := _pick(w, candidates))
    ]
    urls = {w.attrs["callback_url"] for w, _ in local}
    shared = [
        (w, e)
        for w in active
        if w.attrs["is_global"] and w.attrs["property_id"] is None
        if w.attrs["callback_url"] not in urls and (e := _pick(w, candidates))
    ]
    return local + shared


def timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def fire_event(
    state: SandboxState,
    candidates: Sequence[str],
    property_id: str | None,
    payload: Any,
    *,
    user_id: str | None = None,
) -> None:
    """Deliver an event to every matching webhook, in the background."""
    for webhook, event in matching(state, candidates, property_id):
        body: dict[str, Any] = {
            "event": event,
            "property_id": property_id,
            "user_id": user_id,
            "timestamp": timestamp(),
        }
        if webhook.attrs["send_data"]:
            body["payload"] = payload
        delivery = Delivery(
            webhook.id, event, webhook.attrs["callback_url"], dict(webhook.attrs["headers"]),
            dict(webhook.attrs["request_params"]), body,
        )  # fmt: skip
        _schedule(state, delivery)


def _schedule(state: SandboxState, delivery: Delivery) -> None:
    """Apply the webhook faults: drop, duplicate, delay, reorder."""
    plan = state.faults.next_webhook()
    if plan.drop:
        _log(state, delivery, attempt=0, status="dropped")
        return
    for _ in range(plan.copies):
        if state.faults.faults.webhook_reorder:
            _reorder(state, delivery, plan.delay_seconds)
        else:
            state.spawn(_deliver(state, delivery, plan.delay_seconds))


def _reorder(state: SandboxState, delivery: Delivery, delay: float) -> None:
    """Hold a delivery until the next one is sent before it (or a short hold ends)."""
    held, state.store.held = state.store.held, None
    if held is None:
        state.store.held = delivery
        state.spawn(_release(state, delivery))
        return

    async def swapped() -> None:
        await _deliver(state, delivery, delay)
        await _deliver(state, held, 0.0)

    state.spawn(swapped())


async def _release(state: SandboxState, delivery: Delivery) -> None:
    await asyncio.sleep(REORDER_HOLD_SECONDS)
    if state.store.held is delivery:
        state.store.held = None
        await _deliver(state, delivery, 0.0)


async def _deliver(state: SandboxState, delivery: Delivery, delay: float) -> None:
    """First attempt now (after any injected delay); retries go on in the background."""
    if delay:
        await asyncio.sleep(delay)
    if not await _attempt(state, delivery, 1):
        state.spawn(_retry(state, delivery))


async def _retry(state: SandboxState, delivery: Delivery) -> None:
    for number, minutes in enumerate(RETRY_MINUTES, start=2):
        await asyncio.sleep(state.scaled(minutes * 60))
        if await _attempt(state, delivery, number):
            return


async def _attempt(state: SandboxState, delivery: Delivery, number: int) -> bool:
    """One POST; True when no retry is due (2xx-4xx), False after a 5xx or a failure."""
    try:
        async with state.webhook_slots:
            response = await state.http().post(
                delivery.url, json=delivery.body, headers=delivery.headers, params=delivery.params
            )
    except httpx.HTTPError as exc:
        _log(state, delivery, attempt=number, status=type(exc).__name__)
        return False
    _log(state, delivery, attempt=number, status=response.status_code)
    return response.status_code < 500


def _log(state: SandboxState, delivery: Delivery, *, attempt: int, status: int | str) -> None:
    state.store.deliveries.append(
        {
            "webhook_id": delivery.webhook_id,
            "event": delivery.event,
            "url": delivery.url,
            "attempt": attempt,
            "status": status,
            "at": timestamp(),
            "body": delivery.body,
        }
    )
    logger.debug("sandbox webhook %s attempt %s: %s", delivery.event, attempt, status)
