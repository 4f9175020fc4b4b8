"""Pure booking logic: webhook classification, ordering, mapping, nights, retry schedule,
guest data split."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.delivery import RETRY_SCHEDULE, forbidden_address, retry_delay
from app.domain.revisions import (
    RoomMapping,
    booked_nights,
    classify_webhook,
    is_newer,
    map_rooms,
    parse_instant,
)
from app.services.personal_data import merge_personal, split_personal


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def test_all_booking_events_of_one_revision_share_one_dedup_key() -> None:
    payload = {"booking_id": "b", "property_id": "p", "revision_id": "r"}
    a = classify_webhook(body(event="booking", property_id="p", payload=payload))
    b = classify_webhook(body(event="booking_new", property_id="p", payload=payload, timestamp="x"))
    assert a.dedup_key == b.dedup_key == "revision:r"
    assert (a.status, a.channex_revision_id, a.channex_property_id) == ("pending", "r", "p")


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"", "malformed"),
        (b"\xff\xfe", "malformed"),
        (b"[1, 2]", "malformed"),
        (b'{"no": "event"}', "malformed"),
        (b'{"event": "booking"}', "ignored"),  # Channex's test message: no revision
        (b'{"event": "review", "payload": {}}', "ignored"),
        (b'{"event": "activate_channel", "payload": {"channel_id": "c"}}', "pending"),
    ],
)
def test_classification_never_raises_and_marks_what_it_will_not_process(
    raw: bytes, status: str
) -> None:
    assert classify_webhook(raw).status == status


def test_guest_names_in_a_non_acked_alarm_are_redacted_before_storage() -> None:
    raw = body(event="non_acked_booking", payload={"revision_id": "r", "customer_name": "Ada L"})
    assert "Ada" not in classify_webhook(raw).body


def test_newer_revision_wins_and_ties_break_by_id() -> None:
    t1, t2 = datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 2, tzinfo=UTC)
    assert is_newer(t2, "a", t1, "z")
    assert not is_newer(t1, "z", t2, "a")
    assert is_newer(t1, "b", t1, "a")
    assert is_newer(t1, "a", None, None)


def test_inserted_at_parses_channex_forms() -> None:
    assert parse_instant("2030-12-01T10:00:00.000000") == datetime(2030, 12, 1, 10, tzinfo=UTC)
    assert parse_instant("2030-12-01T10:00:00Z") == datetime(2030, 12, 1, 10, tzinfo=UTC)
    assert parse_instant("garbage") == datetime.min.replace(tzinfo=UTC)


def test_unmapped_rooms_keep_channex_ids_and_are_flagged() -> None:
    rooms = [{"room_type_id": "rt1", "rate_plan_id": "rp1"}, {"room_type_id": "rt9"}]
    mapped, flags = map_rooms(rooms, RoomMapping({"rt1": "dbl"}, {"rp1": "bar"}))
    assert mapped[0] | {} == {**rooms[0], "pms_room_type_id": "dbl", "pms_rate_plan_id": "bar"}
    assert (mapped[1]["room_type_id"], mapped[1]["pms_room_type_id"]) == ("rt9", None)
    assert flags == {"unmapped_room_type", "unmapped_rate_plan"}


def test_booked_nights_exclude_checkout_and_cancelled_rooms() -> None:
    rooms: list[dict[str, Any]] = [
        {"room_type_id": "a", "checkin_date": "2031-01-10", "checkout_date": "2031-01-12"},
        {"room_type_id": "b", "checkin_date": "2031-01-10", "checkout_date": "2031-01-11",
         "is_cancelled": True},
    ]  # fmt: skip
    assert booked_nights(rooms) == {("a", date(2031, 1, 10)), ("a", date(2031, 1, 11))}


def test_retry_schedule_spans_days_with_bounded_jitter_and_honours_retry_after() -> None:
    rng = random.Random(1)
    delays = [retry_delay(n, rng=rng) for n in range(1, len(RETRY_SCHEDULE) + 1)]
    assert all(d is not None for d in delays)
    assert sum(d for d in delays if d is not None) > 3 * 86400
    for base, got in zip(RETRY_SCHEDULE, delays, strict=True):
        assert got is not None
        assert 0.8 * base <= got <= 1.2 * base
    assert retry_delay(len(RETRY_SCHEDULE) + 1) is None
    assert retry_delay(1, retry_after=120) == 120
    assert retry_delay(1, retry_after=10**9) == 86400


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [("127.0.0.1", True), ("10.0.0.1", True), ("169.254.169.254", True), ("::1", True),
     ("::ffff:192.168.1.1", True), ("0.0.0.0", True), ("93.184.216.34", False),
     ("100.64.1.1", True), ("224.0.0.1", True), ("2002:7f00:1::", True),
     ("2001:0:4136:e378:8000:63bf:3fff:fdd2", True),
     ("2606:4700::1111", False)],
)  # fmt: skip
def test_forbidden_addresses(address: str, forbidden: bool) -> None:
    assert forbidden_address(address) is forbidden


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    customer=json_values,
    notes=json_values,
    guests=st.lists(json_values, max_size=3),
    extra=st.dictionaries(st.sampled_from(["amount", "status", "x"]), json_values, max_size=3),
)
def test_split_then_merge_gives_the_revision_back(
    customer: Any, notes: Any, guests: list[Any], extra: dict[str, Any]
) -> None:
    rooms = [{"room_type_id": str(i), "guests": g} for i, g in enumerate(guests)]
    attrs = {**extra, "customer": customer, "guarantee": None, "notes": notes, "rooms": rooms}
    clean, personal = split_personal(attrs)
    assert "customer" not in clean
    assert all("guests" not in r for r in clean["rooms"])
    assert merge_personal(clean, personal) == attrs
