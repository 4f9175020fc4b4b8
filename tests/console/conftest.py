"""The console's tests: the booking fakes (for a quarantined revision) and an operator key."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.settings import ApiKey, Settings
from tests import booking_fakes
from tests.booking_fakes import booking_settings
from tests.fake_channex import FakeChannex

OPERATOR_KEY = "operator-test-key"

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
router = booking_fakes.router


@pytest.fixture
def settings(database_url: str) -> Settings:
    # pms.test (the deliveries page's PMS) resolves nowhere: the address check is what this
    # flag turns off.
    found = booking_settings(database_url, allow_private_callbacks=True)
    found.api_keys = [*found.api_keys, ApiKey(name="ops", key=OPERATOR_KEY, operator=True)]
    return found


@pytest.fixture
async def browser(app: FastAPI, channex: FakeChannex) -> AsyncIterator[httpx.AsyncClient]:
    """A client without an API key, as a browser is: it keeps cookies, follows no redirect."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def log_in(browser: httpx.AsyncClient, key: str = OPERATOR_KEY) -> httpx.Response:
    """As a browser does: the form first (its CSRF cookie and hidden token), then the POST."""
    form = await browser.get("/console/login")
    return await browser.post("/console/login", data={"key": key, "csrf": csrf_of(form.text)})


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)
