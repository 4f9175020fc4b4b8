"""A channel's state from what Channex reported, and the hotel's next steps per OTA."""

from __future__ import annotations

from functools import reduce

import pytest

from app.domain.channel_state import ChannelFacts, ChannelState, apply_event, channel_state
from app.domain.channel_steps import next_steps


def state_after(*events: str) -> ChannelState:
    facts = reduce(lambda f, e: apply_event(f, e, "invalid rate" if e == "sync_error" else None),
                   events, ChannelFacts())  # fmt: skip
    return channel_state(facts)


@pytest.mark.parametrize(
    ("events", "state"),
    [
        (("new_channel",), ChannelState.PENDING),
        (("new_channel", "updated_channel"), ChannelState.PENDING),
        (("new_channel", "activate_channel"), ChannelState.LIVE),
        (("activate_channel", "new_channel"), ChannelState.LIVE),  # out of order: still live
        (("activate_channel", "deactivate_channel"), ChannelState.DISCONNECTED),
        (("activate_channel", "disconnect_channel"), ChannelState.DISCONNECTED),
        (("activate_channel", "sync_error"), ChannelState.ERROR),
        (("activate_channel", "sync_error", "updated_channel"), ChannelState.LIVE),
        (("new_channel", "sync_error"), ChannelState.ERROR),
        (
            ("activate_channel", "deactivate_channel", "channel_removal_warning"),
            ChannelState.REMOVAL_WARNING,
        ),
        (("channel_removal_warning", "activate_channel"), ChannelState.LIVE),
        (("new_channel", "booking"), ChannelState.PENDING),  # not a channel event
    ],
)
def test_events_give_the_state(events: tuple[str, ...], state: ChannelState) -> None:
    assert state_after(*events) == state


def test_a_sync_error_keeps_its_text_until_the_channel_changes() -> None:
    facts = apply_event(ChannelFacts(is_active=True, ever_live=True), "sync_error", "bad rate")
    assert facts.error == "bad rate"
    assert apply_event(facts, "activate_channel").error is None


def test_booking_com_steps_name_the_hotel_id_and_live_has_none() -> None:
    steps = next_steps("BookingCom", ChannelState.PENDING, "1234567")
    assert "approve Channex as the channel manager for hotel id 1234567" in steps[0]
    assert "Booking.com extranet" in steps[0]
    assert next_steps("BookingCom", ChannelState.LIVE, "1234567") == []


@pytest.mark.parametrize(
    ("code", "words"),
    [("Expedia", "Expedia Partner Central"), ("ABB", "Airbnb"), ("Agoda", "Channex's")],
)
def test_each_ota_has_its_own_steps(code: str, words: str) -> None:
    assert words in " ".join(next_steps(code, ChannelState.DISCONNECTED, None))


def test_error_and_removal_warning_say_what_happened() -> None:
    assert "invalid rate" in next_steps("BDC", ChannelState.ERROR, None, "invalid rate")[0]
    warned = next_steps("BDC", ChannelState.REMOVAL_WARNING, "42")
    assert "delete" in warned[0]
    assert "hotel id 42" in warned[1]
