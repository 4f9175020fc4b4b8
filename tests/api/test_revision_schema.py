"""What the PMS receives against what openapi.json says it receives: the pushed bodies and the
pull feed of a new, a modified and a cancelled booking, with and without guest data, validate
against the committed schema (so schema and wire cannot drift); the examples too, nulls kept;
and the `booking.revision` webhook documents the code's replies and schedule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from app.domain.delivery import RETRY_SCHEDULE
from app.schemas_revision import RevisionData
from tests import booking_fakes
from tests.api.test_bookings import book, configure_endpoint, verified
from tests.api.test_webhooks import ids, post_booking, settle
from tests.booking_fakes import ChannexBookings, booking_settings
from tests.factories import onboard
from tests.fake_channex import FakeChannex

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
router = booking_fakes.router

DOCUMENT: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "openapi.json").read_text()
)
PMS_URL = "https://pms.test/hook"


@pytest.fixture
def settings(database_url: str) -> Any:
    return booking_settings(database_url, allow_private_callbacks=True)


def validator(name: str) -> Draft202012Validator:
    """A validator of one component of openapi.json (OpenAPI 3.1 is JSON Schema 2020-12)."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(name: str, instance: object) -> None:
    found = validator(name).iter_errors(instance)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in found]
    assert not errors, errors


async def test_pushed_and_pulled_revisions_match_the_schema(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    await onboard(client)
    secret = await configure_endpoint(client)
    pms = router.post(PMS_URL).respond(204)
    first = await book(client, channex, bookings, minutes=0)
    booking = bookings.booking_of(first)
    await book(client, channex, bookings, booking_id=booking, status="modified", minutes=3)
    await book(client, channex, bookings, booking_id=booking, status="cancelled", minutes=6)
    await settle(app)
    feed = (await client.get("/v1/bookings/revisions")).json()

    sent = [verified(call.request, secret) for call in pms.calls]
    assert [p["data"]["status"] for p in sent] == ["new", "modified", "cancelled"]  # type: ignore[index]
    for body in sent:
        assert_valid("RevisionDelivery", body)
    assert_valid("RevisionFeed", feed)
    assert [item["revision"]["customer"]["name"] for item in feed["items"]] == ["Ada"] * 3
    # What Channex sent is passed on: nothing dropped, nothing made up.
    sent_revision = sent[0]["data"]["revision"]  # type: ignore[index]
    assert set(sent_revision) == set(bookings.revisions[first]) | {"guarantee"}
    assert sent_revision["guarantee"] is None  # not sent by Channex: guest data, shown as null


async def test_revisions_without_guest_data_match_the_schema(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    first = await book(client, channex, bookings, minutes=0)
    booking_id = bookings.booking_of(first)
    await settle(app)
    erased = await client.delete(f"/v1/bookings/{booking_id}/personal-data")

    assert erased.status_code == 200
    assert_valid("BookingRead", erased.json())
    revision = erased.json()["revisions"][0]["revision"]
    assert (revision["customer"], revision["notes"], revision["rooms"][0]["guests"]) == (
        None,
        None,
        None,
    )


async def test_a_revision_off_the_schema_is_quarantined_and_the_feed_goes_on(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    good = await book(client, channex, bookings, minutes=0)
    prop, room, rate = ids(channex)
    bad = bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=1)
    bookings.revisions[bad]["amount"] = 200  # a JSON number: the schema says a decimal string
    await post_booking(client, prop, bad, bookings.booking_of(bad))
    await settle(app)

    feed = await client.get("/v1/bookings/revisions")
    problems = (await client.get("/v1/bookings/problems")).json()
    again = await client.post(f"/v1/bookings/quarantine/{bad}/reapply")

    assert feed.status_code == 200
    assert [item["id"] for item in feed.json()["items"]] == [good]
    assert sorted(bookings.acked) == sorted([good, bad])
    (held,) = problems["quarantined_revisions"]
    assert held["revision_id"] == bad
    assert held["reason"].startswith("RevisionOffSchema")
    assert again.status_code == 422
    assert again.json()["code"] == "revision_still_failing"
    assert "amount" in again.json()["detail"]


def test_the_schema_refuses_what_the_service_never_sends() -> None:
    """The validation above could fail: a revision missing its rooms, or a price as a number,
    is refused by the schema."""
    example = DOCUMENT["components"]["schemas"]["RevisionRead"]["examples"][0]
    revision = {k: v for k, v in example["revision"].items() if k != "rooms"}
    no_rooms = {**example, "revision": revision}
    a_number = {**example, "revision": {**example["revision"], "amount": 220}}
    for wrong in (no_rooms, a_number):
        with pytest.raises(ValidationError):
            validator("RevisionRead").validate(wrong)


def test_the_examples_are_a_new_a_modified_and_a_cancelled_booking_with_their_nulls() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    reads = schemas["RevisionRead"]["examples"]
    deliveries = schemas["RevisionDelivery"]["examples"]

    assert [e["status"] for e in reads] == ["new", "modified", "cancelled"]
    for example in reads:
        assert_valid("RevisionRead", example)
        assert example["pulled_at"] is None  # FastAPI drops None from examples: put back
    for example in deliveries:
        assert_valid("RevisionDelivery", example)
    assert reads[1]["revision"]["notes"] is None
    assert reads[0]["revision"]["currency"] == "EUR"


def test_unknown_attributes_pass_through_and_absent_ones_stay_absent() -> None:
    sent = {"id": "r", "booking_id": "b", "property_id": "p", "status": "new", "rooms": [
        {"guests": None, "room_type_id": "rt", "from_2027": {"x": 1}}
    ], "customer": None, "guarantee": None, "notes": None, "new_field": [1, "a"]}  # fmt: skip

    assert RevisionData.model_validate(sent).model_dump(mode="json") == sent


def test_the_push_is_documented_as_a_webhook_not_a_path() -> None:
    operation = DOCUMENT["webhooks"]["booking.revision"]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]

    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert body == {"$ref": "#/components/schemas/RevisionDelivery"}
    assert set(operation["responses"]) == {"2XX", "410", "default"}
    assert "Retry-After" in operation["responses"]["default"]["headers"]
    assert f"{len(RETRY_SCHEDULE) + 1} attempts" in operation["description"]
    assert not [path for path in DOCUMENT["paths"] if "booking.revision" in path]
