"""The console's property page and overview counts follow an ARI change from pending to in
sync, with the run's Channex task id."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests.api.test_ari import wait_for_jobs
from tests.console.conftest import log_in
from tests.factories import availability, onboard, restrictions
from tests.fake_channex import FakeChannex
from tests.services.ari_support import FakeAri


def overview_counts(html: str) -> tuple[int, int]:
    row = re.search(r">p-1</a></td>.*?</tr>", html, re.S)
    assert row is not None, html
    pending, failed = re.findall(r'<td class="num[^"]*">(\d+)</td>', row.group(0))
    return int(pending), int(failed)


def grid_of(html: str) -> str:
    """The ARI calendar's body (not its legend)."""
    return html.split('data-testid="ari-grid">')[1].split("</tbody>")[0]


async def test_a_change_goes_from_pending_to_in_sync_on_the_pages(
    app: FastAPI, client: httpx.AsyncClient, browser: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    await onboard(client)
    body = {"items": [availability(0, 9, 4), restrictions(0, 9, rate="99.5", stop_sell=False)]}
    await log_in(browser)
    empty = await browser.get("/console/properties/p-1")
    assert "No push yet." in empty.text
    assert (await client.post("/v1/properties/p-1/ari", json=body)).status_code == 202

    assert overview_counts((await browser.get("/console/")).text) == (20, 0)
    pending = (await browser.get("/console/properties/p-1")).text
    assert grid_of(pending).count('class="cell cell-pending"') == 20  # 10 days x (room, rate)
    assert "{&#34;availability&#34;: 4}" in pending  # the desired value, on hover

    await wait_for_jobs(app)
    assert overview_counts((await browser.get("/console/")).text) == (0, 0)
    synced = (await browser.get("/console/properties/p-1")).text
    assert grid_of(synced).count('class="cell cell-in_sync"') == 20
    assert "cell-pending" not in grid_of(synced)
    runs = (await client.get("/v1/properties/p-1/sync-runs")).json()["items"]
    assert len(runs) == 2
    assert all(run["task_ids"] for run in runs)
    for run in runs:
        for task_id in run["task_ids"]:
            assert task_id in synced
    assert 'class="outcome-success">success' in synced
