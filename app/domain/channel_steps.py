"""What the hotel has to do next for a channel, per OTA, in words the PMS can show as given.

The steps are those Channex documents for connecting each OTA (channex-api.md §9); channel-sync
cannot do them for the hotel: each is an approval in the OTA's own extranet.
"""

from __future__ import annotations

from app.domain.channel_state import ChannelState

BOOKING_CODES = frozenset({"BookingCom", "BDC"})
EXPEDIA_CODES = frozenset({"Expedia", "EXP"})
AIRBNB_CODES = frozenset({"AirBNB", "ABB"})


def _ota_steps(code: str, hotel_id: str | None) -> list[str]:
    hotel = f"hotel id {hotel_id}" if hotel_id else "your hotel id"
    if code in BOOKING_CODES:
        return [
            f"In the Booking.com extranet (Account > Connectivity provider), approve Channex as "
            f"the channel manager for {hotel}.",
            "Then activate the channel in the channel-manager window; rates and availability "
            "are sent as soon as it is live.",
        ]
    if code in EXPEDIA_CODES:
        return [
            f"In Expedia Partner Central (Rooms and rates > Connectivity settings), choose "
            f"Channex as the connectivity provider for {hotel}, as Channex's Expedia guide "
            "describes.",
            "Then activate the channel in the channel-manager window.",
        ]
    if code in AIRBNB_CODES:
        # Channex gives the OAuth link in its channel window, not through the API we use.
        return [
            "Open the Airbnb channel in the channel-manager window and sign in to Airbnb to "
            "authorise Channex (the OAuth link is shown there).",
            "Then map the listings and activate the channel.",
        ]
    return [
        "Follow Channex's connection steps for this OTA in the channel-manager window "
        "(credentials, then mapping of rooms and rates).",
        "Then activate the channel.",
    ]


def next_steps(
    code: str, state: ChannelState, hotel_id: str | None, error: str | None = None
) -> list[str]:
    """The hotel's next steps for a channel in `state`; none while it is live."""
    if state == ChannelState.LIVE:
        return []
    if state == ChannelState.ERROR:
        reported = f"The OTA reported: {error}. " if error else ""
        return [
            f"{reported}Check the channel's settings and mapping in the channel-manager "
            "window and correct them in the OTA's extranet if needed."
        ]
    if state == ChannelState.REMOVAL_WARNING:
        return [
            "Channex will delete this inactive channel soon: activate it again, or let it go.",
            *_ota_steps(code, hotel_id),
        ]
    return _ota_steps(code, hotel_id)
