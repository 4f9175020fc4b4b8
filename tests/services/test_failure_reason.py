"""A quarantined revision's reason says what failed and where, never the data it failed on."""

from __future__ import annotations

import pydantic

from app.services.revision_sources import failure_reason


class Guest(pydantic.BaseModel):
    age: int


def apply_guest(raw: dict[str, object]) -> Guest:
    return Guest.model_validate(raw)


def test_the_reason_names_the_error_and_its_place_but_not_the_guest_data() -> None:
    try:
        apply_guest({"age": "Ada Lovelace, ada@example.com"})
    except pydantic.ValidationError as exc:
        reason = failure_reason(exc)
    assert "Ada" not in reason
    assert "example.com" not in reason
    assert reason.startswith("ValidationError at ")
    assert "ada@" not in reason.lower()


def test_an_error_raised_here_points_at_this_function() -> None:
    def fail() -> None:
        raise ValueError("room for Grace Hopper")

    try:
        fail()
    except ValueError as exc:
        reason = failure_reason(exc)
    assert reason.startswith("ValueError at test_failure_reason.py:")
    assert reason.endswith(" in fail")
    assert "Grace" not in reason
