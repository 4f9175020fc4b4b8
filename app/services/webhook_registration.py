"""channel-sync's one global Channex webhook: created if missing, repaired if changed.

Channex creates webhooks inactive and without data unless told (§8.1), signs nothing and
sends the headers we configure (§8.4): our secret header authenticates its calls.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.channex.schemas import Webhook, WebhookAttributes
from app.db import utcnow
from app.domain.revisions import SUBSCRIBED_EVENTS
from app.models import BookingMarker
from app.services.inbox import SECRET_HEADER
from app.services.rows import dialect_insert
from app.settings import Settings

log = logging.getLogger(__name__)

# An unchanged configuration is checked this often (a changed one at once, see webhook_marker).
WEBHOOK_CHECK_SECONDS = 3600.0

WEBHOOK_PATH = "/v1/webhooks/channex"
# Present while the last webhook check failed (Channex refused or could not be reached).
FAILED_MARKER = "webhook:failed"


def callback_url(settings: Settings) -> str | None:
    if not settings.public_base_url:
        return None
    return settings.public_base_url.rstrip("/") + WEBHOOK_PATH


def desired_webhook(settings: Settings) -> WebhookAttributes | None:
    """What the webhook must say; None when PUBLIC_BASE_URL or the secret is not set."""
    url = callback_url(settings)
    if url is None or settings.channex_webhook_secret is None:
        return None
    return WebhookAttributes(
        callback_url=url,
        event_mask=";".join(SUBSCRIBED_EVENTS),
        property_id=None,
        is_global=True,
        is_active=True,
        send_data=True,
        headers={SECRET_HEADER: settings.channex_webhook_secret.get_secret_value()},
    )


def _differs(hook: Webhook, want: WebhookAttributes) -> bool:
    return (
        hook.event_mask != want.event_mask
        or not hook.is_active
        or not hook.send_data
        or not hook.is_global
        or hook.property_id is not None
        or hook.headers != want.headers
    )


async def ensure_webhook(channex: ChannexClient, settings: Settings) -> str:
    """Make Channex hold exactly one webhook to our callback URL, as desired; idempotent.
    Returns what it did: skipped, created, updated or unchanged."""
    want = desired_webhook(settings)
    if want is None:
        log.warning("PUBLIC_BASE_URL or CHANNEX_WEBHOOK_SECRET unset: no Channex webhook")
        return "skipped"
    ours = [w for w in await channex.list_webhooks() if w.callback_url == want.callback_url]
    if not ours:
        await channex.create_webhook(want)
        return "created"
    keep, *extra = ours
    for hook in extra:
        await channex.delete_webhook(hook.id)  # one webhook only: never a second delivery
    if _differs(keep, want):
        await channex.update_webhook(keep.id, want)
        return "updated"
    return "deleted duplicates" if extra else "unchanged"


async def check_webhook(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    channex: ChannexClient,
    *,
    force: bool = False,
) -> str | None:
    """Create or repair the webhook when its check is due (or forced): what was done, or None
    when not due. Channex failing is raised; the next check retries."""
    marker = webhook_marker(settings)
    async with sessions() as session:
        if not force and not await marker_due(session, marker, WEBHOOK_CHECK_SECONDS):
            return None
    try:
        result = await ensure_webhook(channex, settings)
    except Exception:
        # In the database, not in this process: /health/ready on every replica reports it.
        async with sessions() as session:
            await touch_marker(session, FAILED_MARKER)
            await session.commit()
        raise
    async with sessions() as session:
        await touch_marker(session, marker)
        await clear_marker(session, FAILED_MARKER)
        await session.commit()
    return result


async def find_registration_failure(session: AsyncSession) -> datetime | None:
    """When the last webhook check failed, or None when the last one succeeded (or none ran)."""
    marker = await session.get(BookingMarker, FAILED_MARKER)
    return None if marker is None else marker.at


def webhook_marker(settings: Settings) -> str:
    """A marker name per desired configuration: a changed URL, mask or secret is checked at
    once (the next sweep, e.g. at start-up), an unchanged one hourly."""
    want = desired_webhook(settings)
    text = want.model_dump_json() if want else ""
    return "webhook:" + hashlib.sha256(text.encode()).hexdigest()[:16]


async def marker_due(session: AsyncSession, name: str, interval_seconds: float) -> bool:
    """True when `name` last ran over `interval_seconds` ago (or never)."""
    marker = await session.get(BookingMarker, name)
    return marker is None or marker.at <= utcnow() - timedelta(seconds=interval_seconds)


async def clear_marker(session: AsyncSession, name: str) -> None:
    """Forget that `name` ran."""
    await session.execute(delete(BookingMarker).where(BookingMarker.name == name))


async def touch_marker(session: AsyncSession, name: str) -> None:
    """Record that `name` ran now. One upsert: read first, then inserted, a marker two
    replicas touched at once for the first time failed one of them on the unique key."""
    now = utcnow()
    stmt = (
        dialect_insert(session)(BookingMarker)
        .values(name=name, at=now)
        .on_conflict_do_update(index_elements=[BookingMarker.name], set_={"at": now})
    )
    await session.execute(stmt)
