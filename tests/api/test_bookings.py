"""The PMS's side: pull feed and cursor, tenant isolation, guest data at rest and its erasure,
signed push delivery in order with retries, and callback URL vetting."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from app.errors import AppError
from app.main import create_app
from app.models import BookingDelivery, BookingRevision, PmsEndpoint
from app.services.callback_urls import vet_callback_url
from app.services.key_rotation import rotate_stored_keys
from app.services.personal_data import PersonalDataKeyError
from app.settings import Settings
from tests import booking_fakes
from tests.api.test_webhooks import ids, post_booking, resources, settle
from tests.booking_fakes import PERSONAL_KEY, ChannexBookings, booking_settings
from tests.conftest import ORG1_KEY
from tests.factories import PROPERTY, onboard
from tests.fake_channex import FakeChannex

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
router = booking_fakes.router

PMS_URL = "https://pms.test/hook"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # pms.test resolves nowhere: the address check is what this flag turns off.
    return booking_settings(database_url, allow_private_callbacks=True)


async def book(
    client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings, **kw: object
) -> str:
    """A revision of property p-1 delivered by webhook; returns its id."""
    prop, room, rate = ids(channex)
    revision_id = bookings.add(prop, room_type_id=room, rate_plan_id=rate, **kw)  # type: ignore[arg-type]
    await post_booking(client, prop, revision_id, bookings.booking_of(revision_id))
    return revision_id


async def test_pull_feed_pages_with_a_stable_cursor_and_acks(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    made = [await book(client, channex, bookings, minutes=n) for n in range(5)]
    await settle(app)

    first = (await client.get("/v1/bookings/revisions", params={"limit": 2})).json()
    rest = (
        await client.get("/v1/bookings/revisions", params={"after": first["next_cursor"]})
    ).json()
    end = (
        await client.get("/v1/bookings/revisions", params={"after": rest["resume_after"]})
    ).json()
    acked = await client.post(f"/v1/bookings/revisions/{made[0]}/ack")
    pending = (await client.get("/v1/bookings/revisions", params={"pending": "true"})).json()
    bad = await client.get("/v1/bookings/revisions", params={"after": "garbage!"})

    assert sorted(i["id"] for i in first["items"] + rest["items"]) == sorted(made)
    assert len(first["items"]) == 2
    assert first["next_cursor"] == first["resume_after"]
    assert len(rest["items"]) == 3
    assert rest["next_cursor"] is None  # the last page
    assert end == {"items": [], "next_cursor": None, "resume_after": rest["resume_after"]}
    assert acked.status_code == 200
    assert acked.json()["pulled_at"] is not None
    assert made[0] not in [i["id"] for i in pending["items"]]
    assert bad.status_code == 422


async def test_the_feed_says_a_full_last_page_is_the_last_and_where_to_resume(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    empty = (await client.get("/v1/bookings/revisions")).json()
    await onboard(client)
    made = [await book(client, channex, bookings, minutes=n) for n in range(4)]
    await settle(app)

    first = (await client.get("/v1/bookings/revisions", params={"limit": 2})).json()
    last = (
        await client.get(
            "/v1/bookings/revisions", params={"limit": 2, "after": first["next_cursor"]}
        )
    ).json()
    from_start = (
        await client.get("/v1/bookings/revisions", params={"after": empty["resume_after"]})
    ).json()
    newer = await book(client, channex, bookings, minutes=9)
    await settle(app)
    resumed = (
        await client.get("/v1/bookings/revisions", params={"after": last["resume_after"]})
    ).json()

    assert empty["items"] == []
    assert empty["next_cursor"] is None
    assert first["next_cursor"] is not None
    assert len(last["items"]) == 2
    assert last["next_cursor"] is None  # exactly `limit` items, and nothing after them
    assert [i["id"] for i in from_start["items"]] == [
        i["id"] for i in first["items"] + last["items"]
    ]
    assert sorted(i["id"] for i in from_start["items"]) == sorted(made)
    assert [i["id"] for i in resumed["items"]] == [newer]


async def test_an_organization_key_sees_only_its_own_bookings(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    await client.put("/v1/organizations/org-2", json={"title": "Other"})
    await client.put("/v1/properties/p-2", json={**PROPERTY, "organization_id": "org-2"})
    other_prop = next(p for p in channex.store["properties"] if p != ids(channex)[0])
    theirs = bookings.add(other_prop)
    await post_booking(client, other_prop, theirs, bookings.booking_of(theirs))
    mine = await book(client, channex, bookings)
    await settle(app)
    org1 = {"Authorization": f"Bearer {ORG1_KEY}"}

    feed = (await client.get("/v1/bookings/revisions", headers=org1)).json()
    their_booking = await client.get(f"/v1/bookings/{bookings.booking_of(theirs)}", headers=org1)
    erase = await client.delete(
        f"/v1/bookings/{bookings.booking_of(theirs)}/personal-data", headers=org1
    )
    ack = await client.post(f"/v1/bookings/revisions/{theirs}/ack", headers=org1)
    everything = (await client.get("/v1/bookings/revisions")).json()

    assert [i["id"] for i in feed["items"]] == [mine]
    assert (their_booking.status_code, erase.status_code, ack.status_code) == (404, 404, 404)
    assert {i["id"] for i in everything["items"]} == {mine, theirs}


async def test_guest_data_is_encrypted_at_rest_readable_after_key_rotation_and_erasable(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    revision_id = await book(client, channex, bookings, guest="Grace")
    await settle(app)
    booking_id = bookings.booking_of(revision_id)
    async with resources(app).session_factory() as session:
        row = (await session.execute(select(BookingRevision))).scalar_one()
    assert "Grace" not in json.dumps(row.data)
    assert "Grace" not in (row.personal_data or "")
    # Rotation: a new key first, the old one still decrypts.
    rotated = resources(app).settings.model_copy(
        update={
            "personal_data_keys": [
                SecretStr(Fernet.generate_key().decode()),
                SecretStr(PERSONAL_KEY),
            ]
        }
    )
    resources(app).settings = rotated
    before = (await client.get(f"/v1/bookings/{booking_id}")).json()

    erased = await client.delete(f"/v1/bookings/{booking_id}/personal-data")

    assert before["revisions"][0]["revision"]["customer"]["name"] == "Grace"
    assert before["revisions"][0]["revision"]["rooms"][0]["guests"][0]["name"] == "Grace"
    assert erased.status_code == 200
    body = erased.json()
    assert body["personal_data_erased_at"] is not None
    revision = body["revisions"][0]
    assert revision["personal_data_erased"] is True
    assert revision["revision"]["customer"] is None
    assert revision["revision"]["rooms"][0]["guests"] is None
    assert revision["revision"]["rooms"][0]["pms_room_type_id"] == "dbl"  # the rest stays
    async with resources(app).session_factory() as session:
        row = (await session.execute(select(BookingRevision))).scalar_one()
    assert row.personal_data is None


def verified(request: httpx.Request, secret: str) -> dict[str, object]:
    payload: dict[str, object] = Webhook(secret).verify(request.content, dict(request.headers))
    return payload


async def configure_endpoint(client: httpx.AsyncClient) -> str:
    response = await client.put("/v1/organizations/org-1/booking-endpoint", json={"url": PMS_URL})
    assert response.status_code == 200, response.text
    secret: str = response.json()["secret"]
    assert secret.startswith("whsec_")
    return secret


async def test_revisions_are_pushed_signed_in_order_with_a_sequence(
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
    second = await book(client, channex, bookings, booking_id=booking, status="modified", minutes=3)
    await settle(app)

    sent = [verified(call.request, secret) for call in pms.calls]
    assert [(p["sequence"], p["data"]["id"]) for p in sent] == [(1, first), (2, second)]  # type: ignore[index]
    assert pms.calls[0].request.headers["webhook-id"] == sent[0]["delivery_id"]
    assert sent[0]["data"]["revision"]["customer"]["name"] == "Ada"  # type: ignore[index]
    endpoint = (await client.get("/v1/organizations/org-1/booking-endpoint")).json()
    assert endpoint["secret"] is None  # shown once, never again
    assert endpoint["pending_deliveries"] == 0


async def test_a_failed_push_is_retried_and_the_next_revision_waits_for_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    await onboard(client)
    secret = await configure_endpoint(client)
    answers = iter([httpx.Response(503), httpx.Response(200), httpx.Response(200)])
    pms = router.post(PMS_URL).mock(side_effect=lambda request: next(answers))
    first = await book(client, channex, bookings, minutes=0)
    booking = bookings.booking_of(first)
    await book(client, channex, bookings, booking_id=booking, status="cancelled", minutes=3)
    await settle(app)

    sequences = [verified(c.request, secret)["sequence"] for c in pms.calls]
    assert sequences == [1, 1, 2]  # 2 was not sent before 1 succeeded
    ids_sent = {c.request.headers["webhook-id"] for c in pms.calls[:2]}
    assert len(ids_sent) == 1  # a retry keeps its webhook-id
    async with resources(app).session_factory() as session:
        rows = (await session.execute(select(BookingDelivery))).scalars().all()
    assert sorted((d.sequence, d.status, d.attempts) for d in rows) == [
        (1, "delivered", 2),
        (2, "delivered", 1),
    ]


async def test_gone_disables_the_endpoint_until_it_is_configured_again_and_replay_resends(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    await onboard(client)
    await configure_endpoint(client)
    pms = router.post(PMS_URL).respond(410)
    revision_id = await book(client, channex, bookings)
    await settle(app)

    endpoints = (await client.get("/v1/bookings/endpoints")).json()
    problems = (await client.get("/v1/bookings/problems")).json()
    assert pms.call_count == 1
    assert endpoints[0]["disabled_at"] is not None
    assert problems["failing_endpoints"][0]["disabled_reason"] == "the PMS answered 410 Gone"

    pms.respond(200)
    again = await client.put("/v1/organizations/org-1/booking-endpoint", json={"url": PMS_URL})
    assert again.json()["disabled_at"] is None  # configuring it again re-enables it
    replay = await client.post(f"/v1/bookings/revisions/{revision_id}/replay")
    await settle(app)

    assert replay.json() == {"revision_id": revision_id, "deliveries": 1}
    assert pms.call_count == 2
    replayed_again = await client.post(f"/v1/bookings/revisions/{revision_id}/replay")
    await settle(app)
    assert replayed_again.status_code == 200
    assert pms.call_count == 3
    ids_sent = {c.request.headers["webhook-id"] for c in pms.calls}
    assert len(ids_sent) == 1


@pytest.mark.parametrize(
    ("environment", "allow", "url"),
    [
        ("production", False, "http://pms.example.com/hook"),
        ("development", False, "http://127.0.0.1:8000/hook"),
        ("development", False, "https://10.1.2.3/hook"),
        ("development", False, "https://169.254.169.254/latest"),
        ("development", False, "https://[::1]/hook"),
        ("development", False, "https://100.64.1.1/hook"),
        ("development", False, "https://[2002:7f00:1::]/hook"),
        ("development", False, "https://user:pw@pms.example.com/hook"),
        ("development", False, "ftp://pms.example.com/hook"),
    ],
)
async def test_callback_urls_that_could_reach_our_network_are_refused(
    environment: str, allow: bool, url: str
) -> None:
    settings = booking_settings(
        "sqlite+aiosqlite://", environment=environment, allow_private_callbacks=allow
    )
    with pytest.raises(AppError) as refused:
        await vet_callback_url(url, settings)
    assert refused.value.status == 422


async def test_a_private_callback_url_is_refused_by_the_api(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await onboard(client)
    resources(app).settings = resources(app).settings.model_copy(
        update={"allow_private_callbacks": False}
    )
    response = await client.put(
        "/v1/organizations/org-1/booking-endpoint", json={"url": "http://127.0.0.1/hook"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "body.url"


async def test_the_signing_secret_is_stored_encrypted_and_still_signs(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await onboard(client)
    secret = await configure_endpoint(client)

    async with resources(app).session_factory() as session:
        stored = (await session.execute(select(PmsEndpoint.secret))).scalar_one()
    assert stored.startswith("fernet:")
    assert secret not in stored
    assert Fernet(PERSONAL_KEY.encode()).decrypt(stored.removeprefix("fernet:")).decode() == secret


async def test_production_without_personal_data_keys_refuses_to_start(database_url: str) -> None:
    settings = booking_settings(database_url, environment="production", personal_data_keys=[])
    app = create_app(settings)

    with pytest.raises(PersonalDataKeyError, match="PERSONAL_DATA_KEYS is required"):
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover - the start-up must fail before this


async def test_rotation_re_encrypts_guest_data_and_secrets_under_the_new_key(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    settings: Settings,
) -> None:
    await onboard(client)
    secret = await configure_endpoint(client)
    await book(client, channex, bookings)
    await settle(app)
    new_key = Fernet.generate_key().decode()
    rotated_settings = settings.model_copy(
        update={"personal_data_keys": [SecretStr(new_key), SecretStr(PERSONAL_KEY)]}
    )

    async with resources(app).session_factory() as session:
        changed = await rotate_stored_keys(session, rotated_settings)
        await session.commit()
        revision = (await session.execute(select(BookingRevision))).scalar_one()
        stored_secret = (await session.execute(select(PmsEndpoint.secret))).scalar_one()

    only_new = Fernet(new_key.encode())
    assert changed == 2
    assert revision.personal_data is not None
    assert json.loads(only_new.decrypt(revision.personal_data))["customer"]["name"] == "Ada"
    assert only_new.decrypt(stored_secret.removeprefix("fernet:")).decode() == secret
