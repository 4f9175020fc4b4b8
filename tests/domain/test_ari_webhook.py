"""Which `ari` events are checked, and over which dates (pure; channex-api.md §8.3)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from app.domain.ari_webhook import AriSpan, Skip, ari_span, widen


def body(user_id: str | None, payload: Any) -> str:
    return json.dumps({"event": "ari", "property_id": "p", "user_id": user_id, "payload": payload})


def test_the_span_covers_every_date_named_in_either_value_shape() -> None:
    cells = [
        {"date": "2030-01-05", "room_type_id": "r", "availability": 2},
        {"date_from": "2030-01-02", "date_to": "2030-01-03", "rate_plan_id": "p", "rate": "9"},
        {"date": "not a date"},
    ]
    assert ari_span(body("staff", cells), "us") == AriSpan(date(2030, 1, 2), date(2030, 1, 5))


def test_our_own_and_system_changes_are_skipped_but_not_as_malformed() -> None:
    cells = [{"date": "2030-01-05"}]
    assert ari_span(body("us", cells), "us") == Skip("our own change")
    system = ari_span(body(None, cells), "us")
    assert isinstance(system, Skip)
    assert not system.malformed


def test_without_our_user_id_every_user_s_change_is_checked() -> None:
    cells = [{"date": "2030-01-05"}]
    assert ari_span(body("us", cells), None) == AriSpan(date(2030, 1, 5), date(2030, 1, 5))


def test_unreadable_bodies_are_malformed_never_raised() -> None:
    for raw in ("{nope", "[]", body("staff", {"date": "2030-01-05"}), body("staff", [1, "x"])):
        found = ari_span(raw, "us")
        assert isinstance(found, Skip), raw
        assert found.malformed, raw


def test_widen_takes_the_smallest_span_covering_both() -> None:
    span = AriSpan(date(2030, 1, 4), date(2030, 1, 6))
    assert widen((None, None), span) == (date(2030, 1, 4), date(2030, 1, 6))
    assert widen((date(2030, 1, 5), date(2030, 1, 9)), span) == (date(2030, 1, 4), date(2030, 1, 9))
