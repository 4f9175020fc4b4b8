"""Webhook intake and revision processing: stored before the answer, applied, acked after
the commit, once (channex-api.md §7.3, §8.3, §8.4)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from app.models import (
    AriCell,
    Booking,
    BookingRevision,
    QuarantinedRevision,
    RoomType,
    WebhookEvent,
)
from app.models.ari import AVAILABILITY
from app.resources import Resources
from tests import booking_fakes
from tests.booking_fakes import WEBHOOK_SECRET, ChannexBookings
from tests.factories import onboard, webhook_body
from tests.fake_channex import FakeChannex

# The booking fakes' fixtures (they override `settings` and `channex` of the conftest).
booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
settings = booking_fakes.settings

HOOK = "/v1/webhooks/channex"
SECRET = {"X-Channex-Webhook-Secret": WEBHOOK_SECRET}


def resources(app: FastAPI) -> Resources:
    found: Resources = app.state.resources
    return found


# A hang guard: a 130-revision feed takes 5 s of CPU, four times that with two runs at once.
SETTLE_TIMEOUT_SECONDS = 60


async def settle(app: FastAPI) -> None:
    await resources(app).queue.wait_idle(SETTLE_TIMEOUT_SECONDS)  # type: ignore[attr-defined]


async def count(app: FastAPI, model: type[object]) -> int:
    async with resources(app).session_factory() as session:
        stmt = select(func.count()).select_from(model)
        return int((await session.execute(stmt)).scalar_one())


def ids(channex: FakeChannex) -> tuple[str, str, str]:
    """Channex ids of property p-1, room type dbl and rate plan bar."""
    prop = next(iter(channex.store["properties"]))
    room = next(iter(channex.store["room_types"]))
    rate = next(iter(channex.store["rate_plans"]))
    return prop, room, rate


async def post_booking(
    client: httpx.AsyncClient, prop: str, revision_id: str, booking: str
) -> httpx.Response:
    body = webhook_body(
        "booking", prop, booking_id=booking, property_id=prop, revision_id=revision_id
    )
    return await client.post(HOOK, json=body, headers=SECRET)


async def test_wrong_or_missing_secret_is_401_and_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    body = webhook_body("booking", "p", booking_id="b", revision_id="r")
    wrong = await client.post(HOOK, json=body, headers={"X-Channex-Webhook-Secret": "nope"})
    missing = await client.post(HOOK, json=body)

    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert wrong.headers["content-type"] == "application/problem+json"
    assert await count(app, WebhookEvent) == 0


async def test_oversize_body_is_413_even_when_content_length_is_absent(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    limit = resources(app).settings.webhook_max_body_bytes
    declared = await client.post(HOOK, content=b"x" * (limit + 1), headers=SECRET)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 1024 + 2):
            yield b"y" * 1024

    streamed = await client.post(HOOK, content=chunks(), headers=SECRET)

    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert streamed.json()["code"] == "payload_too_large"
    assert await count(app, WebhookEvent) == 0


async def test_malformed_body_is_stored_marked_and_answered_200(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post(HOOK, content=b"{not json", headers=SECRET)
    again = await client.post(HOOK, content=b"{not json", headers=SECRET)

    assert (response.status_code, again.status_code) == (200, 200)
    async with resources(app).session_factory() as session:
        (event,) = (await session.execute(select(WebhookEvent))).scalars()
    assert (event.status, event.body) == ("malformed", "{not json")


async def test_test_message_and_unknown_event_are_stored_as_ignored(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    test = await client.post(HOOK, json={"event": "booking", "payload": {}}, headers=SECRET)
    other = await client.post(HOOK, json=webhook_body("review", "p"), headers=SECRET)

    assert (test.status_code, other.status_code) == (200, 200)
    async with resources(app).session_factory() as session:
        rows = (await session.execute(select(WebhookEvent).order_by(WebhookEvent.id))).scalars()
        stored = [(e.status, e.event, e.note, json.loads(e.body or "null")) for e in rows]
    # Both kept as received, for an operator to look at.
    assert stored == [
        ("ignored", "booking", "no revision id", {"event": "booking", "payload": {}}),
        ("ignored", "review", "event not handled", webhook_body("review", "p")),
    ]


async def test_booking_is_applied_then_acked_by_revision_id_after_the_commit(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    revision_id = bookings.add(prop, room_type_id=room, rate_plan_id=rate)
    seen_at_ack: list[tuple[str, int]] = []

    async def check_committed(acked: str) -> None:
        # Another session sees only committed rows: the revision must already be there.
        async with resources(app).session_factory() as session:
            stmt = select(func.count()).where(BookingRevision.channex_revision_id == acked)
            seen_at_ack.append((acked, int((await session.execute(stmt)).scalar_one())))

    bookings.on_ack = check_committed
    response = await post_booking(client, prop, revision_id, bookings.booking_of(revision_id))
    await settle(app)

    assert response.status_code == 200
    assert seen_at_ack == [(revision_id, 1)]
    assert bookings.acked == [revision_id]
    booking = (await client.get(f"/v1/bookings/{bookings.booking_of(revision_id)}")).json()
    assert (booking["status"], booking["property_id"], booking["last_sequence"]) == (
        "new",
        "p-1",
        1,
    )
    (revision,) = booking["revisions"]
    assert revision["flags"] == []
    assert revision["acked_at"] is not None
    room_read = revision["revision"]["rooms"][0]
    assert (room_read["pms_room_type_id"], room_read["pms_rate_plan_id"]) == ("dbl", "bar")
    assert revision["revision"]["customer"]["name"] == "Ada"


async def test_duplicate_webhook_is_stored_once_and_applied_once(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    revision_id = bookings.add(prop, room_type_id=room, rate_plan_id=rate)
    booking = bookings.booking_of(revision_id)

    for _ in range(3):
        assert (await post_booking(client, prop, revision_id, booking)).status_code == 200
    await settle(app)
    await post_booking(client, prop, revision_id, booking)  # after processing, too
    await settle(app)

    assert await count(app, WebhookEvent) == 1
    assert await count(app, BookingRevision) == 1
    fetches = [c for c in bookings.calls if c.url.path.endswith(revision_id)]
    assert len(fetches) == 1
    assert bookings.acked == [revision_id]


async def test_unmapped_room_is_flagged_stored_with_channex_ids_and_listed(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, _, _ = ids(channex)
    revision_id = bookings.add(prop, room_type_id="rt-unknown", rate_plan_id="rp-unknown")

    await post_booking(client, prop, revision_id, bookings.booking_of(revision_id))
    await settle(app)

    feed = (await client.get("/v1/bookings/revisions")).json()["items"]
    (item,) = feed
    assert item["flags"] == ["unmapped_rate_plan", "unmapped_room_type"]
    room = item["revision"]["rooms"][0]
    assert (room["room_type_id"], room["pms_room_type_id"]) == ("rt-unknown", None)
    problems = (await client.get("/v1/bookings/problems")).json()
    assert [p["revision_id"] for p in problems["flagged_revisions"]] == [revision_id]
    assert bookings.acked == [revision_id]


async def test_unknown_property_is_stored_flagged_and_acked_not_retried(
    app: FastAPI, client: httpx.AsyncClient, bookings: ChannexBookings
) -> None:
    revision_id = bookings.add("not-our-property")

    await post_booking(client, "not-our-property", revision_id, bookings.booking_of(revision_id))
    await settle(app)

    assert bookings.acked == [revision_id]
    problems = (await client.get("/v1/bookings/problems")).json()
    assert problems["flagged_revisions"][0]["flags"] == ["unknown_property"]
    async with resources(app).session_factory() as session:
        (event,) = (await session.execute(select(WebhookEvent))).scalars()
    assert event.status == "done"


async def test_modification_arriving_first_is_applied_after_the_older_new_revision(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    first = bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=0)
    booking = bookings.booking_of(first)
    second = bookings.add(
        prop, booking_id=booking, status="modified", minutes=5, room_type_id=room, rate_plan_id=rate
    )

    await post_booking(client, prop, second, booking)  # the older webhook is late
    await settle(app)
    await post_booking(client, prop, first, booking)
    await settle(app)

    read = (await client.get(f"/v1/bookings/{booking}")).json()
    assert read["status"] == "modified"
    assert [(r["id"], r["sequence"]) for r in read["revisions"]] == [(first, 1), (second, 2)]
    feed = (await client.get("/v1/bookings/revisions")).json()["items"]
    assert [i["id"] for i in feed] == [first, second]
    assert sorted(bookings.acked) == sorted([first, second])


async def test_an_older_revision_arriving_after_a_newer_one_never_overwrites_it(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    first = bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=0)
    booking = bookings.booking_of(first)
    rooms = {"room_type_id": room, "rate_plan_id": rate}
    middle = bookings.add(prop, booking_id=booking, status="modified", minutes=5, **rooms)
    last = bookings.add(prop, booking_id=booking, status="cancelled", minutes=9, **rooms)
    bookings.acked.append(middle)  # gone from the feed (e.g. past Channex's 30 minutes)

    for revision_id in (first, last, middle):
        await post_booking(client, prop, revision_id, booking)
        await settle(app)

    read = (await client.get(f"/v1/bookings/{booking}")).json()
    assert (read["status"], read["current_revision_id"]) == ("cancelled", last)
    stale = next(r for r in read["revisions"] if r["id"] == middle)
    assert (stale["sequence"], stale["flags"]) == (None, ["stale"])


async def test_failed_ack_is_retried_by_reconciliation_without_reapplying(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    revision_id = bookings.add(prop, room_type_id=room, rate_plan_id=rate)
    bookings.fail_acks = 1

    await post_booking(client, prop, revision_id, bookings.booking_of(revision_id))
    await settle(app)
    assert bookings.acked == []
    await resources(app).queue.enqueue("reconcile_bookings", 1)
    await settle(app)

    assert bookings.acked == [revision_id]
    assert await count(app, BookingRevision) == 1
    assert await count(app, Booking) == 1


async def test_reconciliation_applies_revisions_whose_webhook_was_lost(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    made = [bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=n) for n in range(12)]

    await resources(app).queue.enqueue("reconcile_bookings", 1)
    await settle(app)

    assert sorted(bookings.acked) == sorted(made)
    assert await count(app, BookingRevision) == 12


async def test_non_acked_booking_is_recorded_and_triggers_reconciliation(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    revision_id = bookings.add(prop, room_type_id=room, rate_plan_id=rate)
    body = webhook_body(
        "non_acked_booking", prop, revision_id=revision_id, customer_name="Ada Lovelace"
    )

    await client.post(HOOK, json=body, headers=SECRET)
    await settle(app)

    problems = (await client.get("/v1/bookings/problems")).json()
    assert [e["event"] for e in problems["events"]] == ["non_acked_booking"]
    assert bookings.acked == [revision_id]
    async with resources(app).session_factory() as session:
        (event,) = (await session.execute(select(WebhookEvent))).scalars()
    assert "Ada" not in event.body  # guest data is never stored in clear


async def test_poison_revision_is_quarantined_acked_and_reapplied_once_fixed(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    revision_id = bookings.add(prop, room_type_id=room, rate_plan_id=rate)
    bookings.revisions[revision_id]["arrival_date"] = "not-a-date"

    await post_booking(client, prop, revision_id, bookings.booking_of(revision_id))
    await settle(app)

    assert bookings.acked == [revision_id]
    problems = (await client.get("/v1/bookings/problems")).json()
    (held,) = problems["quarantined_revisions"]
    assert held["revision_id"] == revision_id
    assert "unreadable" in held["reason"]
    still = await client.post(f"/v1/bookings/quarantine/{revision_id}/reapply")
    assert still.status_code == 502 or still.status_code == 422

    bookings.revisions[revision_id]["arrival_date"] = "2031-01-10"
    fixed = await client.post(f"/v1/bookings/quarantine/{revision_id}/reapply")

    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["sequence"] == 1
    assert await count(app, QuarantinedRevision) == 1
    problems = (await client.get("/v1/bookings/problems")).json()
    assert problems["quarantined_revisions"] == []


async def test_a_booking_on_a_night_the_pms_had_closed_is_flagged_overbooking(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    async with resources(app).session_factory() as session:
        room_type = (await session.execute(select(RoomType))).scalar_one()
        for night, left in ((date(2031, 1, 10), 3), (date(2031, 1, 11), 0)):
            session.add(
                AriCell(
                    property_id=room_type.property_id,
                    kind=AVAILABILITY,
                    entity_id=room_type.id,
                    stay_date=night,
                    desired={"availability": left},
                    pushed={},
                )
            )
        await session.commit()
    closed = bookings.add(prop, room_type_id=room, rate_plan_id=rate)  # nights 10th and 11th
    fine = bookings.add(prop, room_type_id=room, rate_plan_id=rate, departure="2031-01-11")

    for revision_id in (closed, fine):
        await post_booking(client, prop, revision_id, bookings.booking_of(revision_id))
    await settle(app)

    flags = {
        r: (await client.get(f"/v1/bookings/{bookings.booking_of(r)}")).json()["revisions"][0][
            "flags"
        ]
        for r in (closed, fine)
    }
    assert flags == {closed: ["overbooking"], fine: []}
    async with resources(app).session_factory() as session:
        cells = (await session.execute(select(AriCell))).scalars().all()
    # Channex lowered these nights itself: they wait for the PMS, never pushed back over it.
    assert all(cell.held_at is not None for cell in cells)


async def pms_sent_availability(app: FastAPI, nights: dict[date, int]) -> None:
    """Store these nights' availability of the one room type as what the PMS last sent."""
    async with resources(app).session_factory() as session:
        room_type = (await session.execute(select(RoomType))).scalar_one()
        for night, left in nights.items():
            key = (room_type.property_id, AVAILABILITY, room_type.id, night)
            cell = await session.get(AriCell, key)
            if cell is None:
                cell = AriCell(
                    property_id=room_type.property_id,
                    kind=AVAILABILITY,
                    entity_id=room_type.id,
                    stay_date=night,
                    pushed={},
                )
                session.add(cell)
            cell.desired = {"availability": left}
        await session.commit()


async def apply_in_turn(
    app: FastAPI, client: httpx.AsyncClient, bookings: ChannexBookings, prop: str, revision: str
) -> list[str]:
    """Post one revision's webhook, let it be applied, and return its delivered flags."""
    booking = bookings.booking_of(revision)
    await post_booking(client, prop, revision, booking)
    await settle(app)
    found = (await client.get(f"/v1/bookings/{booking}")).json()["revisions"]
    flags: list[str] = next(r["flags"] for r in found if r["id"] == revision)
    return flags


JAN_10, JAN_11, JAN_12 = date(2031, 1, 10), date(2031, 1, 11), date(2031, 1, 12)


async def test_a_modification_keeping_its_nights_is_not_flagged_once_the_pms_sent_0(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    await pms_sent_availability(app, {JAN_10: 1, JAN_11: 1})
    new = bookings.add(prop, room_type_id=room, rate_plan_id=rate)  # nights 10th and 11th
    first = await apply_in_turn(app, client, bookings, prop, new)
    # The PMS takes the booking into account: its last room on those nights is gone.
    await pms_sent_availability(app, {JAN_10: 0, JAN_11: 0})
    booking = bookings.booking_of(new)
    renamed = bookings.add(
        prop,
        booking_id=booking,
        status="modified",
        minutes=5,
        guest="Grace",
        room_type_id=room,
        rate_plan_id=rate,
    )
    moved_in = bookings.add(
        prop,
        booking_id=booking,
        status="modified",
        minutes=10,
        arrival="2031-01-11",
        room_type_id=room,
        rate_plan_id=rate,
    )

    assert first == []
    assert await apply_in_turn(app, client, bookings, prop, renamed) == []
    assert await apply_in_turn(app, client, bookings, prop, moved_in) == []  # a night fewer


async def test_a_modification_extending_the_stay_onto_a_closed_night_is_flagged(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    await pms_sent_availability(app, {JAN_10: 1, JAN_11: 1, JAN_12: 0})
    new = bookings.add(prop, room_type_id=room, rate_plan_id=rate)  # nights 10th and 11th
    first = await apply_in_turn(app, client, bookings, prop, new)
    await pms_sent_availability(app, {JAN_10: 0, JAN_11: 0})
    longer = bookings.add(
        prop,
        booking_id=bookings.booking_of(new),
        status="modified",
        minutes=5,
        departure="2031-01-13",
        room_type_id=room,
        rate_plan_id=rate,
    )

    assert first == []
    assert await apply_in_turn(app, client, bookings, prop, longer) == ["overbooking"]


async def test_a_new_booking_is_still_flagged_on_a_night_another_one_closed(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    await pms_sent_availability(app, {JAN_10: 1, JAN_11: 1})
    first = bookings.add(prop, room_type_id=room, rate_plan_id=rate)  # nights 10th and 11th
    flags_first = await apply_in_turn(app, client, bookings, prop, first)
    await pms_sent_availability(app, {JAN_10: 0, JAN_11: 0})
    second = bookings.add(
        prop, minutes=5, arrival="2031-01-11", room_type_id=room, rate_plan_id=rate
    )  # the 11th only, a night the first booking took

    assert flags_first == []
    assert await apply_in_turn(app, client, bookings, prop, second) == ["overbooking"]


async def pooled_backend_pids(app: FastAPI) -> list[int]:
    """The PostgreSQL backend of every connection now idle in the app's pools: the engine's
    and the intake's own."""
    engine, intake = resources(app).engine, resources(app).intake_pool
    assert intake is not None
    async with contextlib.AsyncExitStack() as stack:
        idle = engine.pool.checkedin()  # type: ignore[attr-defined]
        conns = [await stack.enter_async_context(engine.connect()) for _ in range(idle)]
        pids = [int(await c.scalar(text("SELECT pg_backend_pid()"))) for c in conns]
        held = [
            await stack.enter_async_context(intake.acquire()) for _ in range(intake.get_idle_size())
        ]
        return pids + [int(c.get_server_pid()) for c in held]


async def test_connections_lost_in_a_database_restart_are_replaced_not_answered_503(
    app: FastAPI, client: httpx.AsyncClient, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL backends to terminate")
    first = await client.post(HOOK, json=webhook_body("review", "p", n=1), headers=SECRET)
    intake = resources(app).intake_pool
    assert intake is not None
    assert intake.get_idle_size() == 1  # the connection `first` used: killed below
    pids = await pooled_backend_pids(app)
    killer = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await killer.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", pids)
    finally:
        await killer.close()

    # Used moments ago, so not pinged (app.db): the intake meets the dead ones itself.
    second = await client.post(HOOK, json=webhook_body("review", "p", n=2), headers=SECRET)

    assert pids
    assert (first.status_code, second.status_code) == (200, 200)
    assert await count(app, WebhookEvent) == 2


def _feed_reads(bookings: ChannexBookings) -> list[httpx.Request]:
    return [c for c in bookings.calls if c.url.path.endswith("/booking_revisions/feed")]


async def test_reconciliation_drains_a_long_feed_one_page_per_job(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Pages, not time, are what this counts: on a loaded machine a page of 100 can outlast the
    # job's work budget (WORK_BUDGET_SECONDS), and a page cut short is read again.
    monkeypatch.setattr("app.jobs.bookings.WORK_BUDGET_SECONDS", 25.0)
    await onboard(client)
    prop, room, rate = ids(channex)
    made = [bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=n) for n in range(130)]

    await resources(app).queue.enqueue("reconcile_bookings", 1)
    await settle(app)

    assert sorted(bookings.acked) == sorted(made)
    reads = _feed_reads(bookings)
    # A full page of 100, then the 30 left (a short page ends the round): a job each, both
    # reading the first page, which the acks of the first job emptied of what it had.
    assert len(reads) == 2
    assert {r.url.params["pagination[page]"] for r in reads} == {"1"}


async def test_a_reconciliation_step_that_acks_nothing_ends_the_round(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    for n in range(3):
        bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=n)
    bookings.fail_acks = 1_000

    await resources(app).queue.enqueue("reconcile_bookings", 1)
    await settle(app)

    assert bookings.acked == []
    assert len(_feed_reads(bookings)) == 1  # no loop re-reading a feed it cannot ack
    assert await count(app, BookingRevision) == 3  # applied all the same, acked later
