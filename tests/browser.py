"""A real Chromium for the browser tests: Debian's package (/usr/bin/chromium), driven by
Playwright's async API. Playwright's own browser download is never used: the system browser
is what an operator's machine has, and the download needs the internet.

A test asks for the `browser_page` fixture (registered through `pytest_plugins` in
tests/conftest.py) and carries BROWSER_MARKS. Each test's screenshots land in
tests/artifacts/<test name>/ (ignored by git), kept for a person to look at after the run."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from tests.servers import in_ci

# Slow: a browser start costs a second or two, and .ci/run runs `pytest -m slow` anyway.
BROWSER_MARKS = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = Path(__file__).parent / "artifacts"

# As root and on a machine without a network, Chromium needs these to start quietly: no
# sandbox (root), and no background connections (refused here, many at a time).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """One headless Chromium for the run; skips (fails in CI) when it is not installed."""
    path = chromium_path()
    if path is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


class Shots:
    """Numbered screenshots of one test: 01-login.png, 02-overview.png…"""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.taken: list[Path] = []

    async def take(self, name: str, *, full_page: bool = True) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=full_page)
        self.taken.append(path)
        return path


@pytest.fixture
async def browser_page(
    chromium: Browser, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Page, Shots]]:
    """A fresh browser context (its own cookies) and page, with the test's screenshot folder.
    Console errors of the page fail the test: a page that logs errors is broken."""
    context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Chromium asks every site for /favicon.ico; a 404 there is not the page's fault.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        yield page, Shots(page, folder)
    finally:
        await context.close()
    assert not errors, f"the page logged errors: {errors}"
