"""/docs and /redoc render in a real Chromium that can reach nothing but the service: every
request to another host is aborted, so a page that still needed a CDN would stay blank.

The service is served as `serve --sandbox` serves it, so the sandbox's own /docs, under its
mount, is checked too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Route, expect

from app.main import SANDBOX_PREFIX, create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox_mode import sandbox_settings
from app.serving import free_port, serving
from app.settings import Settings
from tests.browser import BROWSER_MARKS, Shots

ARI_PATH = "/v1/properties/{property_id}/ari"

# One database engine is enough: the pages do not touch it.
pytestmark = [*BROWSER_MARKS, pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)]


@pytest.fixture
async def base_url(settings: Settings) -> AsyncIterator[str]:
    port = free_port()
    sandbox = create_sandbox_app()
    app = create_app(sandbox_settings(settings, sandbox, port=port), sandbox=sandbox)
    async with serving(app, port) as url:
        yield url


async def offline(page: Page) -> list[str]:
    """Abort every request that leaves this machine; returns the URLs that tried."""
    refused: list[str] = []

    async def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_loopback)
    return refused


async def test_swagger_ui_renders_offline(base_url: str, browser_page: tuple[Page, Shots]) -> None:
    page, shots = browser_page
    refused = await offline(page)
    await page.goto(f"{base_url}/docs")
    # Swagger UI's element for an operation: operations-<tag>-<operationId>.
    post_ari = page.locator("#operations-ari-post_ari")
    await expect(post_ari).to_be_visible()
    await expect(page.locator("#operations-tag-ari")).to_be_visible()
    await shots.take("swagger-ui")
    await post_ari.locator(".opblock-summary").click()  # its parameters and body render too
    await expect(post_ari.locator(".opblock-body")).to_be_visible()
    await shots.take("swagger-ui-post-ari", full_page=False)
    # "Try it out" calls the service from the page: the policy's connect-src lets it.
    live = page.locator("#operations-health-live")
    await live.locator(".opblock-summary").click()
    await live.get_by_role("button", name="Try it out").click()
    await live.get_by_role("button", name="Execute").click()
    status = live.locator(".live-responses-table td.response-col_status:not(.col_header)")
    await expect(status).to_have_text("200")
    await status.scroll_into_view_if_needed()
    await shots.take("swagger-ui-try-it-out", full_page=False)
    assert refused == []


async def test_redoc_renders_offline(base_url: str, browser_page: tuple[Page, Shots]) -> None:
    page, shots = browser_page
    refused = await offline(page)
    await page.goto(f"{base_url}/redoc")
    # ReDoc's menu entries are named tag/<tag>[/operation/<operationId>].
    await page.locator('li[data-item-id="tag/ari"]').click()
    menu = page.locator('li[data-item-id="tag/ari/operation/post_ari"]')
    await expect(menu).to_be_visible()
    await menu.click()
    heading = page.locator('[id="tag/ari/operation/post_ari"] h2')
    # The operation's summary, as the document gives it (ReDoc titles an operation by it).
    summary = create_app(Settings(_env_file=None)).openapi()["paths"][ARI_PATH]["post"]["summary"]
    await expect(heading).to_have_text(summary)
    await expect(heading).to_be_in_viewport()
    await shots.take("redoc-post-ari", full_page=False)
    assert refused == []


async def test_sandbox_swagger_ui_renders_offline_under_its_mount(
    base_url: str, browser_page: tuple[Page, Shots]
) -> None:
    page, shots = browser_page
    refused = await offline(page)
    await page.goto(f"{base_url}{SANDBOX_PREFIX}/docs")
    await expect(page.locator(".opblock").first).to_be_visible()
    await expect(page.locator(".info .title")).to_contain_text("Channex sandbox")
    await shots.take("sandbox-swagger-ui")
    assert refused == []
