"""Webhooks: create, list, read, update, delete (channex-api.md §8.1, §8.2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.sandbox.deps import BodyDep, StateDep
from app.sandbox.errors import not_found
from app.sandbox.jsonapi import Json, filter_values, item, page, ref, success, unwrap
from app.sandbox.state import SandboxState, Webhook, new_id
from app.sandbox.validate import INVALID, Checker, known

router = APIRouter()

EVENTS = frozenset(
    [
        "ari",
        "booking",
        "booking_new",
        "booking_modification",
        "booking_cancellation",
        "booking_unmapped_room",
        "booking_unmapped_rate",
        "non_acked_booking",
        "message",
        "sync_error",
        "sync_warning",
        "rate_error",
        "reservation_request",
        "alteration_request",
        "accepted_reservation",
        "declined_reservation",
        "inquiry",
        "review",
        "updated_review",
        "new_channel",
        "updated_channel",
        "disconnect_channel",
        "disconnect_listing",
        "activate_channel",
        "deactivate_channel",
        "channel_removal_warning",
        "property_removal_warning",
        "message_thread_booking_assigned",
    ]
)
# Webhooks are created inactive and without data unless told otherwise (§8.1).
DEFAULTS: dict[str, Any] = {
    "property_id": None, "is_active": False, "send_data": False, "is_global": False,
    "protected": False, "headers": {}, "request_params": {},
}  # fmt: skip


def webhook_item(webhook: Webhook) -> Json:
    property_id = webhook.attrs["property_id"]
    relationships = {
        "property": {"data": ref("property", property_id) if property_id else None},
        "organization": {"data": None},
    }
    return item("webhook", webhook.id, dict(webhook.attrs), relationships)


def get_webhook(state: SandboxState, webhook_id: str) -> Webhook:
    webhook = state.store.webhooks.get(webhook_id)
    if webhook is None:
        raise not_found()
    return webhook


def valid_mask(mask: str) -> bool:
    """`*`, an event, or a semicolon-separated list; `ari:...` filters allowed (§8.1)."""
    parts = mask.split(";")
    return all(p == "*" or p in EVENTS or p.startswith("ari:") for p in parts)


def _check(state: SandboxState, attrs: dict[str, Any], current: Webhook | None) -> None:
    checker = Checker(attrs, partial=current is not None)
    checker.text("callback_url", required=True, max_len=2048)
    checker.text("event_mask", required=True)
    for flag in ("is_active", "send_data", "is_global", "protected"):
        checker.boolean(flag)
    url, mask = attrs.get("callback_url"), attrs.get("event_mask")
    if isinstance(url, str) and not url.startswith(("http://", "https://")):
        checker.add("callback_url", INVALID)
    if isinstance(mask, str) and not valid_mask(mask):
        checker.add("event_mask", INVALID)
    for mapping in ("headers", "request_params"):
        if mapping in attrs and not isinstance(attrs[mapping], dict):
            checker.add(mapping, INVALID)
    property_id = attrs.get("property_id")
    if property_id is not None and not known(state.store.properties, property_id):
        checker.add("property_id", INVALID)
    merged = {**(current.attrs if current else DEFAULTS), **attrs}
    if any(
        w.attrs["callback_url"] == merged.get("callback_url")
        and w.attrs["event_mask"] == merged.get("event_mask")
        and (current is None or w.id != current.id)
        for w in state.store.webhooks.values()
    ):
        checker.add("property_id", "only one webhook for callback url and event mask allowed")
    checker.raise_if_any()


@router.get("/webhooks")
async def list_webhooks(request: Request, state: StateDep) -> Json:
    """List webhooks (filters `property_id`, `callback_url`, `event_mask`)."""
    hooks = list(state.store.webhooks.values())
    for field in ("property_id", "callback_url", "event_mask"):
        wanted = filter_values(request, field)
        hooks = [w for w in hooks if wanted is None or w.attrs[field] in wanted]
    return page(request, [webhook_item(w) for w in hooks])


@router.get("/webhooks/{webhook_id}")
async def read_webhook(webhook_id: str, state: StateDep) -> Json:
    """One webhook."""
    return {"data": webhook_item(get_webhook(state, webhook_id))}


@router.post("/webhooks", status_code=201)
async def create_webhook(body: BodyDep, state: StateDep) -> Json:
    """Create a webhook: inactive and without payload unless `is_active`/`send_data` are set."""
    async with state.lock:
        attrs = unwrap(body, "webhook")
        _check(state, attrs, None)
        webhook = Webhook(new_id(), {**DEFAULTS, **attrs})
        state.store.webhooks[webhook.id] = webhook
        return {"data": webhook_item(webhook)}


@router.put("/webhooks/{webhook_id}")
async def update_webhook(webhook_id: str, body: BodyDep, state: StateDep) -> Json:
    """Update the fields sent."""
    async with state.lock:
        webhook = get_webhook(state, webhook_id)
        attrs = unwrap(body, "webhook")
        _check(state, attrs, webhook)
        webhook.attrs.update(attrs)
        return {"data": webhook_item(webhook)}


@router.delete("/webhooks/{webhook_id}")
async def delete_webhook(webhook_id: str, state: StateDep) -> Json:
    """Delete a webhook."""
    async with state.lock:
        get_webhook(state, webhook_id)
        del state.store.webhooks[webhook_id]
        return success()
