"""The connection session: what the PMS asks for to let a hotel connect an OTA itself in
Channex's channel iframe (channex-api.md §9.4), and the URL it gets to embed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app import schema_examples as ex

# The OTAs' short codes the iframe filters on (channex-api.md §9.3).
ChannelShortCode = Literal["BDC", "EXP", "ABB", "AGO"]

SESSION_CREATE_EXAMPLE: ex.Example = {
    "channels": ["BDC", "EXP"],
    "language": "de",
    "read_only_availability": False,
    "username": "front-desk@hotel-adler.example",
}
SESSION_READ_EXAMPLE: ex.Example = {
    "url": "https://staging.channex.io/auth/exchange?oauth_session_key=<one-time%20token>"
    "&app_mode=headless&redirect_to=/channels"
    f"&property_id={ex.CHANNEX_PROPERTY_ID}&channels=BDC,EXP&lng=de",
    "expires_at": "2027-01-11T09:45:00Z",
}


class ChannelSessionCreate(BaseModel):
    """What the hotel may do in the iframe; every field may be left out."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(SESSION_CREATE_EXAMPLE))

    channels: list[ChannelShortCode] | None = Field(
        default=None,
        min_length=1,
        description="The OTAs offered, by short code (`BDC` Booking.com, `EXP` Expedia, "
        "`ABB` Airbnb, `AGO` Agoda); all that Channex offers when left out.",
    )
    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2}$",
        description="The iframe's language, a two-letter ISO 639-1 code (e.g. `en`, `de`); "
        "Channex's default (English) when left out.",
    )
    read_only_availability: bool = Field(
        default=False,
        description="Show availability in the iframe without letting the hotel change it "
        "there (the PMS owns it).",
    )
    username: str = Field(
        default="channel-sync",
        min_length=1,
        max_length=100,
        description="Who opens the session, as Channex records it with the token (e.g. the "
        "hotel user's e-mail).",
    )


class ChannelSessionRead(BaseModel):
    """The URL to embed in an iframe (or open in a new window). It carries a one-time token:
    hand it to the hotel's browser at once; it is never stored or logged by channel-sync."""

    model_config = ConfigDict(json_schema_extra=ex.examples(SESSION_READ_EXAMPLE))

    url: str = Field(
        description="Channex's `/auth/exchange` URL with the one-time token, in headless mode, "
        "opening the property's channels page. Single use."
    )
    expires_at: datetime = Field(
        description="When the token expires unless used before (15 minutes after it was "
        "asked for; UTC, RFC 3339)."
    )


# White-label connection (the Channel API, channex-api.md §9.2): the OTAs whose connection is
# a hotel id, by short code → Channex's adapter code (§9.3). Airbnb connects by OAuth and
# Agoda's adapter code is not known: both go through the iframe.
WHITE_LABEL_ADAPTERS = {"BDC": "BookingCom", "EXP": "Expedia"}
WhiteLabelOta = Literal["BDC", "EXP"]

CHANNEL_CREATE_EXAMPLE: ex.Example = {
    "ota": "BDC",
    "hotel_id": "1234567",
    "title": "Booking.com Hotel Adler",
    "mappings": [
        {
            "room_type_id": "DBL",
            "rate_plan_id": "BAR",
            "ota_room_code": "123456701",
            "ota_rate_code": "9876543",
        }
    ],
}


class ChannelMappingCreate(BaseModel):
    """One PMS rate plan mapped to a room and rate of the OTA."""

    model_config = ConfigDict(extra="forbid")

    room_type_id: str = Field(min_length=1, max_length=64, description="The PMS room type id.")
    rate_plan_id: str = Field(
        min_length=1, max_length=64, description="The PMS rate plan id, of that room type."
    )
    ota_room_code: str = Field(
        min_length=1, max_length=64, description="The room's code at the OTA."
    )
    ota_rate_code: str = Field(
        min_length=1, max_length=64, description="The rate plan's code at the OTA."
    )


class ChannelCreate(BaseModel):
    """An OTA connection made by the PMS itself, without the iframe (white-label accounts)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(CHANNEL_CREATE_EXAMPLE))

    ota: WhiteLabelOta = Field(
        description="The OTA, by short code: `BDC` Booking.com, `EXP` Expedia."
    )
    hotel_id: str = Field(
        min_length=1, max_length=64, description="The property's hotel id at the OTA."
    )
    title: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="The channel's title in Channex; the OTA's name and the property's title "
        "when left out.",
    )
    mappings: list[ChannelMappingCreate] | None = Field(
        default=None,
        min_length=1,
        description="The PMS rate plans to map, each with its OTA room and rate codes. Left "
        "out: every rate plan of the property that is in Channex, with the PMS room type id "
        "and rate plan id as the OTA codes.",
    )
