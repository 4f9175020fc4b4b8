"""Development without PERSONAL_DATA_KEYS: guest names are kept, under the key generated
into the data directory, and a restart reads them back (before: silently dropped)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy import select

from app.main import create_app
from app.models import BookingRevision
from app.services.personal_data import DEVELOPMENT_KEY_FILE
from app.settings import Settings
from tests import booking_fakes
from tests.api.test_bookings import book
from tests.api.test_webhooks import resources, settle
from tests.booking_fakes import ChannexBookings, booking_settings
from tests.conftest import GLOBAL_KEY
from tests.factories import onboard
from tests.fake_channex import FakeChannex

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
router = booking_fakes.router


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return booking_settings(database_url, personal_data_keys=[], data_dir=tmp_path / "data")


async def test_guest_names_are_kept_under_the_generated_key_across_a_restart(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    settings: Settings,
) -> None:
    await onboard(client)
    revision_id = await book(client, channex, bookings, guest="Grace")
    await settle(app)
    booking_id = bookings.booking_of(revision_id)
    async with resources(app).session_factory() as session:
        row = (await session.execute(select(BookingRevision))).scalar_one()
    key = (settings.data_dir / DEVELOPMENT_KEY_FILE).read_text().strip()

    restarted = create_app(settings)  # a later start: the same data directory, no keys set
    async with restarted.router.lifespan_context(restarted):
        transport = httpx.ASGITransport(app=restarted)
        headers = {"Authorization": f"Bearer {GLOBAL_KEY}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as again:
            read = (await again.get(f"/v1/bookings/{booking_id}")).json()

    assert row.personal_data is not None
    assert b"Grace" in Fernet(key.encode()).decrypt(row.personal_data.encode())
    [revision] = read["revisions"]
    assert revision["personal_data_erased"] is False
    assert revision["revision"]["customer"]["name"] == "Grace"
    assert revision["revision"]["rooms"][0]["guests"][0]["name"] == "Grace"
