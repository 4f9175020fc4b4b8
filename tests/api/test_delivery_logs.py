"""A failed delivery to the PMS is visible in the logs: one warning with the endpoint, the
status or error, the attempt and when it is tried again (and why it stopped, when it does)."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx
from fastapi import FastAPI

from tests import booking_fakes
from tests.api.test_bookings import PMS_URL, book, configure_endpoint
from tests.api.test_bookings import settings as settings  # the fixture: callbacks allowed
from tests.api.test_webhooks import settle
from tests.booking_fakes import ChannexBookings
from tests.factories import onboard
from tests.fake_channex import FakeChannex

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
router = booking_fakes.router


async def test_a_failed_delivery_logs_one_warning_with_its_next_retry(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await onboard(client)
    await configure_endpoint(client)
    answers = iter([httpx.Response(503), httpx.Response(200)])
    router.post(PMS_URL).mock(side_effect=lambda request: next(answers))
    caplog.set_level(logging.WARNING, logger="app.services.delivery")

    await book(client, channex, bookings)
    await settle(app)

    [warning] = [r for r in caplog.records if r.name == "app.services.delivery"]
    assert warning.getMessage().startswith("PMS delivery failed, next retry in ")
    fields = warning.__dict__
    assert (fields["status"], fields["attempt"]) == (503, 1)
    assert isinstance(fields["endpoint"], int)


async def test_a_gone_endpoint_logs_that_it_was_disabled(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await onboard(client)
    await configure_endpoint(client)
    router.post(PMS_URL).mock(return_value=httpx.Response(410))
    caplog.set_level(logging.WARNING, logger="app.services.delivery")

    await book(client, channex, bookings)
    await settle(app)

    messages = [r.getMessage() for r in caplog.records if r.name == "app.services.delivery"]
    assert messages == ["PMS endpoint answered 410 Gone: disabled"]
