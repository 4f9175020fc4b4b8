"""/metrics: the process's counters move with the work, the backlogs come from the database,
and no label carries an id."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from fastapi import FastAPI

from app.db import utcnow
from app.metrics import state_metrics
from app.models.bookings import EventStatus, WebhookEvent
from app.resources import Resources
from tests import booking_fakes
from tests.booking_fakes import WEBHOOK_SECRET
from tests.factories import onboard, webhook_body
from tests.metrics_scrape import parse, scrape, total

settings = booking_fakes.settings
HOOK = "/v1/webhooks/channex"
SECRET = {"X-Channex-Webhook-Secret": WEBHOOK_SECRET}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


async def test_counters_move_with_the_work_and_labels_carry_no_ids(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)
    await onboard(client)
    await client.post(HOOK, content=b"not json", headers=SECRET)
    await client.post(HOOK, content=b"not json", headers=SECRET)  # the same call again
    await client.post(HOOK, json=webhook_body("test", None), headers={})
    after = await scrape(client)

    # Onboarding created the Channex property: counted under its endpoint, its id taken out.
    channex = "channel_sync_channex_requests_total"
    created = {"endpoint": "properties", "method": "POST", "status": "201"}
    assert total(after, channex, **created) == total(before, channex, **created) + 1
    stored = "channel_sync_webhook_events_stored_total"
    assert (
        total(after, stored, status=EventStatus.MALFORMED)
        == total(before, stored, status=EventStatus.MALFORMED) + 1
    )
    duplicates = "channel_sync_webhook_events_duplicate_total"
    assert total(after, duplicates) == total(before, duplicates) + 1
    refused = "channel_sync_webhook_events_refused_total"
    assert (
        total(after, refused, reason="unauthorized")
        == total(before, refused, reason="unauthorized") + 1
    )
    received = "channel_sync_webhook_events_received_total"
    assert total(after, received) == total(before, received) + 3
    for _, labels in after:
        for _, label in labels:
            assert not UUID.search(label), label


async def test_backlogs_are_read_from_the_database(app: FastAPI) -> None:
    resources: Resources = app.state.resources
    now = utcnow()
    async with resources.session_factory() as session:
        session.add(
            WebhookEvent(
                dedup_key="k", event="booking", body="{}", received_at=now - timedelta(seconds=90)
            )
        )
        await session.commit()
        found = parse((await state_metrics(session, now=now)).decode())
    assert total(found, "channel_sync_webhook_events_pending") == 1
    assert total(found, "channel_sync_webhook_event_oldest_pending_age_seconds") == 90
    assert total(found, "channel_sync_ari_cells", state="pending") == 0
