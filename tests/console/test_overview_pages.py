"""The overview's pages: each row's cell counts and last push are its own property's, on
every page and in a search (they are read for the page's properties only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert

from app.console import queries
from app.models import AriCell, Organization, Property, SyncRun
from tests.api.test_webhooks import resources

PROPERTIES = 120
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def expected(n: int) -> tuple[int, int, str]:
    """Property n's (pending cells, failed cells, last push outcome)."""
    failed = 1 if n % 7 == 0 else 0
    return n % 5, failed, "failed" if n % 3 == 0 else "success"


async def seed(app: FastAPI) -> None:
    properties: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    for n in range(PROPERTIES):
        properties.append(
            {"id": n + 1, "organization_id": 1, "pms_property_id": f"p-{n:03d}",
             "title": f"Hotel {n}", "currency": "EUR", "timezone": "UTC", "details": {}}
        )  # fmt: skip
        pending, failed, last = expected(n)
        for d in range(pending + failed + 3):  # and 3 cells in sync
            dirty = d < pending + failed
            cells.append(
                {"property_id": n + 1, "kind": "availability", "entity_id": 1,
                 "stay_date": date(2030, 1, 1) + timedelta(days=d), "desired": {"availability": 1},
                 "pushed": {} if dirty else {"availability": 1}, "dirty": dirty,
                 "failure": "refused" if d < failed else None}
            )  # fmt: skip
        for outcome in ("rate_limited", last):  # the newest run is the last push shown
            runs.append(
                {"property_id": n + 1, "kind": "incremental", "endpoint": "availability",
                 "outcome": outcome, "started_at": T0 + timedelta(minutes=len(runs))}
            )  # fmt: skip
    async with resources(app).session_factory() as session:
        org = {"id": 1, "pms_organization_id": "org-1", "title": "Group"}
        await session.execute(insert(Organization), [org])
        await session.execute(insert(Property), properties)
        await session.execute(insert(AriCell), cells)
        # Interleaved across properties, so that "newest" is per property, not per table.
        await session.execute(insert(SyncRun), sorted(runs, key=lambda r: -r["property_id"]))
        await session.commit()


async def test_every_page_shows_its_own_properties_counts(app: FastAPI) -> None:
    await seed(app)
    async with resources(app).session_factory() as session:
        seen = []
        for page in (1, 2, 3):
            found = await queries.overview(session, page=page)
            assert (found.total, found.page, found.pages) == (PROPERTIES, page, 3)
            seen += found.rows
        searched = await queries.overview(session, q="P-11")
        past_the_end = await queries.overview(session, page=9)
    assert [r.property_id for r in seen] == [f"p-{n:03d}" for n in range(PROPERTIES)]
    for n, row in enumerate(seen):
        assert (row.pending_cells, row.failed_cells, row.last_push_outcome) == expected(n), n
    assert [r.property_id for r in searched.rows] == [f"p-{n}" for n in range(110, 120)]
    assert [r.pending_cells for r in searched.rows] == [expected(n)[0] for n in range(110, 120)]
    assert past_the_end.page == 3
    assert len(past_the_end.rows) == PROPERTIES - 100
