"""Which room-nights a revision's overbooking check covers (app/domain/revisions.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.domain.revisions import nights_to_check, room_nights


def room(checkin: str, checkout: str, room_type: str = "dbl", **extra: Any) -> dict[str, Any]:
    return {"room_type_id": room_type, "checkin_date": checkin, "checkout_date": checkout, **extra}


TWO_NIGHTS = [room("2031-01-10", "2031-01-12")]


def test_room_nights_count_each_room_on_each_night() -> None:
    rooms = [
        room("2031-01-10", "2031-01-12"),
        room("2031-01-11", "2031-01-12"),
        room("2031-01-10", "2031-01-11", "twin"),
        room("2031-01-10", "2031-01-12", is_cancelled=True),
    ]

    assert room_nights(rooms) == {
        ("dbl", date(2031, 1, 10)): 1,
        ("dbl", date(2031, 1, 11)): 2,
        ("twin", date(2031, 1, 10)): 1,
    }


@pytest.mark.parametrize("previous_status", [None, "new", "modified", "cancelled"])
def test_a_new_booking_is_checked_on_all_its_nights(previous_status: str | None) -> None:
    assert nights_to_check("new", TWO_NIGHTS, previous_status, TWO_NIGHTS) == {
        ("dbl", date(2031, 1, 10)),
        ("dbl", date(2031, 1, 11)),
    }


@pytest.mark.parametrize("previous_status", [None, "new", "modified"])
def test_a_cancellation_is_never_checked(previous_status: str | None) -> None:
    assert nights_to_check("cancelled", TWO_NIGHTS, previous_status, []) == set()


def test_a_modification_keeping_its_nights_adds_none() -> None:
    renamed = [room("2031-01-10", "2031-01-12", guests=[{"name": "Grace"}])]

    assert nights_to_check("modified", renamed, "new", TWO_NIGHTS) == set()


def test_a_modification_shortening_the_stay_adds_none() -> None:
    shorter = [room("2031-01-10", "2031-01-11")]

    assert nights_to_check("modified", shorter, "modified", TWO_NIGHTS) == set()


def test_a_modification_extending_the_stay_adds_only_the_new_nights() -> None:
    longer = [room("2031-01-09", "2031-01-13")]

    assert nights_to_check("modified", longer, "new", TWO_NIGHTS) == {
        ("dbl", date(2031, 1, 9)),
        ("dbl", date(2031, 1, 12)),
    }


def test_a_second_room_on_a_booked_night_adds_that_night() -> None:
    two_rooms = [*TWO_NIGHTS, room("2031-01-11", "2031-01-12")]

    assert nights_to_check("modified", two_rooms, "new", TWO_NIGHTS) == {("dbl", date(2031, 1, 11))}


def test_a_room_type_change_adds_the_new_room_types_nights() -> None:
    moved = [room("2031-01-10", "2031-01-12", "twin")]

    assert nights_to_check("modified", moved, "new", TWO_NIGHTS) == {
        ("twin", date(2031, 1, 10)),
        ("twin", date(2031, 1, 11)),
    }


def test_a_room_cancelled_before_adds_its_nights_when_it_comes_back() -> None:
    before = [*TWO_NIGHTS, room("2031-01-10", "2031-01-11", is_cancelled=True)]
    back = [*TWO_NIGHTS, room("2031-01-10", "2031-01-11")]

    assert nights_to_check("modified", back, "modified", before) == {("dbl", date(2031, 1, 10))}


@pytest.mark.parametrize("previous_status", [None, "cancelled"])
def test_a_modification_after_nothing_held_is_checked_on_all_its_nights(
    previous_status: str | None,
) -> None:
    # No applied revision, or a cancelled one: the PMS counts none of these rooms.
    assert nights_to_check("modified", TWO_NIGHTS, previous_status, TWO_NIGHTS) == {
        ("dbl", date(2031, 1, 10)),
        ("dbl", date(2031, 1, 11)),
    }
