"""Channex error bodies become typed errors, whatever shape they arrive in (§1.4)."""

from __future__ import annotations

import pytest

from app.channex.errors import (
    ChannexAuthError,
    ChannexBadRequestError,
    ChannexError,
    ChannexNotFoundError,
    ChannexRateLimitedError,
    ChannexUnavailableError,
    ChannexValidationError,
    error_from_response,
)
from tests.channex.fakes import payload


def test_validation_error_carries_the_field_map() -> None:
    error = error_from_response(422, payload("error_422"))

    assert isinstance(error, ChannexValidationError)
    assert error.status == 422
    assert error.code == "validation_error"
    assert error.title == "Validation Error"
    assert error.details == {"title": ["can't be blank"], "currency": ["is invalid"]}


def test_bad_request_details_may_be_a_list_of_messages() -> None:
    body = {
        "errors": {
            "code": "bad_request",
            "title": "Bad Request",
            "details": ["restrictions is required"],
        }
    }

    error = error_from_response(400, body)

    assert isinstance(error, ChannexBadRequestError)
    assert error.details == ["restrictions is required"]


def test_nested_details_become_dotted_fields() -> None:
    body = {
        "errors": {
            "code": "validation_error",
            "title": "V",
            "details": {"settings": {"state_length": ["too long"]}, "x": "bad"},
        }
    }

    error = error_from_response(422, body)

    assert error.details == {"settings.state_length": ["too long"], "x": ["bad"]}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, ChannexBadRequestError),
        (401, ChannexAuthError),
        (403, ChannexAuthError),
        (404, ChannexNotFoundError),
        (422, ChannexValidationError),
        (500, ChannexUnavailableError),
        (418, ChannexError),
    ],
)
@pytest.mark.parametrize(
    "body", [None, "<html>oops</html>", {}, {"errors": "boom"}, {"errors": []}, [1]]
)
def test_missing_or_malformed_body_still_gives_a_typed_error(
    status: int, expected: type[ChannexError], body: object
) -> None:
    error = error_from_response(status, body)

    assert type(error) is expected
    assert error.status == status
    assert error.code == expected.default_code
    assert str(status) in error.title
    assert error.details is None


def test_a_list_of_errors_and_the_old_error_key_are_tolerated() -> None:
    as_list = error_from_response(
        404, {"errors": [{"code": "not_found", "title": "Resouce Not Found"}]}
    )
    old_key = error_from_response(401, {"error": {"code": "unauthorized", "title": "Unauthorized"}})

    assert (as_list.code, as_list.title) == ("not_found", "Resouce Not Found")
    assert (old_key.code, old_key.title) == ("unauthorized", "Unauthorized")


def test_rate_limited_error_says_how_long_and_for_which_property() -> None:
    error = ChannexRateLimitedError(retry_after=6.5, property_id="p1")

    assert isinstance(error, ChannexError)
    assert (error.retry_after, error.property_id, error.status) == (6.5, "p1", None)
    assert error.code == "http_too_many_requests"
