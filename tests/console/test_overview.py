"""The overview's columns (drift, channels, 429s of the last hour) show the stored figures,
and a page costs the same few queries whatever the number of properties on it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, select

from app.db import utcnow
from app.models import AriState, Channel, Organization, Property, SyncRun
from tests.api.test_webhooks import resources
from tests.console.conftest import log_in
from tests.factories import onboard


def row_of(html: str, property_id: str) -> str:
    found = re.search(rf'data-property-id="{property_id}".*?</tr>', html, re.S)
    assert found is not None, html
    return found.group(0)


def cell(row: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)</td>', row)
    assert found is not None, row
    return found.group(1)


def run(property_pk: int, outcome: str, minutes_ago: float) -> SyncRun:
    return SyncRun(
        property_id=property_pk, kind="incremental", endpoint="availability", outcome=outcome,
        started_at=utcnow() - timedelta(minutes=minutes_ago),
    )  # fmt: skip


async def test_drift_channels_and_recent_429s_are_shown_per_property(
    app: FastAPI, client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    await onboard(client)
    await log_in(browser)
    before = row_of((await browser.get("/console/")).text, "p-1")
    assert cell(before, "drift") == "—"  # never checked is not "no drift"
    assert cell(before, "channels") == "0 / 0"
    assert cell(before, "rate-limited") == "0"
    assert '<span class="status">1 synced</span>' in (await browser.get("/console/")).text

    async with resources(app).session_factory() as session:
        pk = (await session.execute(select(Property.id))).scalar_one()
        org = (await session.execute(select(Organization))).scalar_one()
        org.sync_status = "error"
        session.add(AriState(property_id=pk, drift_checked_at=utcnow(), drift_differences=7))
        session.add(Channel(property_id=pk, channex_channel_id="ch-1", channel="BookingCom",
                            is_active=True))  # fmt: skip
        session.add(Channel(property_id=pk, channex_channel_id="ch-2", channel="Expedia"))
        session.add_all(
            [
                run(pk, "rate_limited", 150),  # outside the hour: not counted
                run(pk, "rate_limited", 40),
                run(pk, "rate_limited", 10),
                run(pk, "failed", 5),  # a failure, not a 429
                run(pk, "success", 1),
            ]
        )
        await session.commit()

    page = (await browser.get("/console/")).text
    assert '1 organizations:\n<span class="state-error"><span class="status">1 error</span>' in page
    after = row_of(page, "p-1")
    assert 'data-testid="organization">org-1 <span class="state-error">' in after
    assert '<span class="status">(error)</span>' in after
    assert cell(after, "drift") == "7"
    assert 'class="drift bad"' in after
    assert cell(after, "channels") == "1 / 2"
    assert cell(after, "rate-limited") == "2"
    assert 'class="outcome-success">success' in after  # the newest run is the last push


@contextmanager
def counted_statements(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = resources(app).engine.sync_engine

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def add_properties(app: FastAPI, count: int) -> None:
    async with resources(app).session_factory() as session:
        org = (await session.execute(select(Organization))).scalar_one()
        for n in range(count):
            prop = Property(
                organization_id=org.id, pms_property_id=f"x-{n:03}", title=f"Extra {n}",
                currency="EUR", timezone="UTC", sync_status="synced",
            )  # fmt: skip
            session.add(prop)
            await session.flush()
            session.add(Channel(property_id=prop.id, channex_channel_id=f"c{n}", channel="X"))
            session.add(run(prop.id, "rate_limited", 1))
        await session.commit()


async def test_a_full_page_costs_as_many_queries_as_a_page_of_one(
    app: FastAPI, client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    await onboard(client)
    await log_in(browser)
    with counted_statements(app) as one:
        assert "1 properties" in (await browser.get("/console/")).text
    await add_properties(app, 120)
    with counted_statements(app) as full:
        page = (await browser.get("/console/", params={"page": 2})).text
    assert "121 properties, page 2 of 3" in page
    assert page.count('data-testid="property-row"') == 50
    assert len(full) == len(one)
    assert len(full) <= 8, full
    assert cell(row_of(page, "x-060"), "rate-limited") == "1"
