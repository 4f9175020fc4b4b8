"""Drift comparison field by field in Channex's answer formats, and the nightly schedule (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.ari_drift import field_drift
from app.domain.ari_schedule import nightly_due, nightly_slot


def test_equal_values_in_channex_formats_are_no_drift() -> None:
    pushed = {"rate": "99.5", "stop_sell": False, "closed_to_arrival": True, "min_stay_arrival": 2}
    held = {"rate": "99.50", "stop_sell": 0, "closed_to_arrival": 1, "min_stay_arrival": 2,
            "max_stay": 0, "min_stay_through": 1}  # fmt: skip
    assert field_drift(pushed, held) == {}


def test_changed_and_missing_fields_drift_with_channex_value() -> None:
    pushed = {"rate": "99.50", "max_stay": 7, "stop_sell": False}
    held = {"rate": "120.00", "stop_sell": True}
    assert field_drift(pushed, held) == {"rate": "120.00", "max_stay": None, "stop_sell": True}


def test_fields_channex_cannot_read_back_are_never_drift() -> None:
    # Per-occupancy rates are not readable (channex-api.md §6.1): no false alarms about them.
    pushed = {"rates": [[1, "80.00"], [2, "90.00"]], "availability": 3}
    assert field_drift(pushed, {"availability": 3}) == {}
    assert field_drift(pushed, {"availability": 0}) == {"availability": 0}


def test_an_unparsable_rate_from_channex_is_drift() -> None:
    assert field_drift({"rate": "10.00"}, {"rate": "n/a"}) == {"rate": "n/a"}


# --- when the nightly work is due -----------------------------------------------------------

HONOLULU = "Pacific/Honolulu"  # UTC-10, no DST


def test_the_nightly_slot_is_off_peak_local_time_and_spread_by_property() -> None:
    now = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 10:00 in Honolulu
    slots = {nightly_slot(now, HONOLULU, pk) for pk in range(1, 50)}
    local = [slot.astimezone(ZoneInfo(HONOLULU)) for slot in slots]
    assert all(s.date() == date(2026, 3, 10) for s in local)  # this morning's, not tonight's
    assert all(time(3) <= s.time() < time(6) for s in local)
    assert len(slots) > 30  # spread, not a thundering herd at 03:00


def test_nightly_work_is_due_once_inside_the_window_and_never_at_peak() -> None:
    slot = nightly_slot(datetime(2026, 3, 10, 20, 0, tzinfo=UTC), HONOLULU, 7)
    assert nightly_due(slot, HONOLULU, 7, None)
    assert nightly_due(slot + timedelta(minutes=30), HONOLULU, 7, slot - timedelta(days=1))
    assert not nightly_due(slot + timedelta(minutes=31), HONOLULU, 7, slot + timedelta(minutes=1))
    assert not nightly_due(slot - timedelta(minutes=1), HONOLULU, 7, None)  # not yet
    assert not nightly_due(slot + timedelta(hours=2), HONOLULU, 7, None)  # missed: next night
    assert nightly_due(slot + timedelta(days=1), HONOLULU, 7, slot)  # the next night again


def test_an_unknown_timezone_counts_as_utc() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert nightly_slot(now, "Mars/Olympus", 3) == nightly_slot(now, "UTC", 3)
