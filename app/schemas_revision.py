"""The booking revision as the PMS receives it, pushed (`RevisionDelivery`) or pulled
(`RevisionRead`): one typed shape for both.

`revision` is Channex's snapshot (channex-api.md §7.1) as Channex sent it, with the PMS's ids
added to each room and guest data put back in place (null once erased). Its models describe
the documented attributes and let any other one through untouched (`additionalProperties`):
Channex adds fields without notice, and the PMS must see what Channex sent. An attribute
Channex did not send stays absent (never a null made up here), which is why those models
serialise only the fields that were set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)

from app.schemas_revision_examples import DELIVERY_EXAMPLES, REVISION_EXAMPLES

RevisionStatus = Literal["new", "modified", "cancelled"]

# Formats as sent: money is a decimal string ("100.00"), never a JSON number (no rounding on
# the way); dates are ISO dates. Channex's own `inserted_at` is ISO 8601 in UTC but not always
# with an offset, so it is not claimed as an RFC 3339 date-time.
# Documented only (WithJsonSchema), never enforced: a value Channex sends otherwise is passed
# on as sent, not refused.
DecimalText = Annotated[
    str, WithJsonSchema({"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"})
]
DateText = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]


def _optional(description: str) -> Any:
    return Field(None, description=description)


class AsSent(BaseModel):
    """A part of Channex's snapshot: documented fields typed, any other kept as sent."""

    model_config = ConfigDict(extra="allow")

    # No return annotation on purpose: pydantic would then document the annotation instead
    # of the model's fields. Only set fields are written: an absent attribute stays absent.
    @model_serializer(mode="wrap")
    def _as_sent(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = handler(self)
        keep = self.model_fields_set | set(self.__pydantic_extra__ or {})
        return {key: value for key, value in data.items() if key in keep}


class RevisionOccupancy(AsSent):
    """How many people: for the booking, or for one room."""

    adults: int | None = _optional("Adults")
    children: int | None = _optional("Children")
    infants: int | None = _optional("Infants")
    ages: list[int] | None = _optional("Children's ages, when there are children")


class RevisionGuest(AsSent):
    """A guest named on a room (guest data)."""

    name: str | None = _optional("First name")
    surname: str | None = _optional("Last name")


class RevisionTax(AsSent):
    """A tax or fee on a room."""

    name: str | None = _optional("What it is, as the OTA names it")
    type: str | None = _optional("`fee`, `tax` or `city_tax`")
    is_inclusive: bool | None = _optional("Whether the room's `amount` already includes it")
    total_price: DecimalText | None = _optional("Its amount, in the booking's currency")


class RevisionService(AsSent):
    """An extra booked with the stay (breakfast, parking…)."""

    name: str | None = _optional("What it is")
    type: str | None = _optional("Its kind, as the OTA gives it")
    nights: int | None = _optional("For how many nights")
    persons: int | None = _optional("For how many persons")
    price_mode: str | None = _optional("How it is priced (per night, per person, per stay…)")
    price_per_unit: DecimalText | None = _optional("Price of one unit")
    total_price: DecimalText | None = _optional("Price of all units")


class RevisionRoom(AsSent):
    """One booked room, with its PMS ids and its price per night."""

    room_type_id: str | None = _optional("Channex room type id")
    rate_plan_id: str | None = _optional("Channex rate plan id; null when Channex has it unmapped")
    pms_room_type_id: str | None = _optional(
        "The PMS's room type id; null when unmapped here (flag `unmapped_room_type`), absent "
        "when the property is unknown (flag `unknown_property`)"
    )
    pms_rate_plan_id: str | None = _optional(
        "The PMS's rate plan id; null when unmapped here (flag `unmapped_rate_plan`), absent "
        "when the property is unknown"
    )
    checkin_date: DateText | None = _optional("Check-in day")
    checkout_date: DateText | None = _optional("Check-out day (the last night is the day before)")
    occupancy: RevisionOccupancy | None = _optional("Who stays in the room")
    guests: list[RevisionGuest] | None = Field(
        description="Guests named on the room (guest data): always present, null once erased "
        "or when no personal-data key is configured"
    )
    amount: DecimalText | None = _optional("The room's total price for the stay")
    days: dict[str, DecimalText] | None = _optional(
        "Price per night: ISO date of the night → decimal string"
    )
    services: list[RevisionService] | None = _optional("Extras booked with this room")
    taxes: list[RevisionTax] | None = _optional("Taxes and fees of the room")
    collected_taxes: list[dict[str, Any]] | None = _optional(
        "Taxes the OTA withheld (Booking.com), as Channex gives them"
    )
    meta: dict[str, Any] | None = _optional(
        "OTA details as Channex gives them (parent rate plan, cancellation penalties…)"
    )
    ota_unique_id: str | None = _optional("The OTA's id of the room (Booking.com)")
    booking_room_id: str | None = _optional("Channex's id of the booked room")
    is_cancelled: bool | None = _optional("The room is cancelled (the rest of the booking stands)")


class RevisionCompany(AsSent):
    """The customer's company."""

    title: str | None = _optional("Company name")
    number: str | None = _optional("Its registration or tax number")
    number_type: str | None = _optional("What kind of number `number` is")
    type: str | None = _optional("Kind of company, as the OTA gives it")


class RevisionCustomer(AsSent):
    """Who booked (guest data)."""

    name: str | None = _optional("First name")
    surname: str | None = _optional("Last name")
    mail: str | None = _optional("Email address (Channex calls it `mail`)")
    phone: str | None = _optional("Phone number")
    address: str | None = _optional("Street address")
    city: str | None = _optional("City")
    zip: str | None = _optional("Postal code")
    country: str | None = _optional("Country, ISO 3166-1 alpha-2")
    language: str | None = _optional("Language, ISO 639-1")
    company: RevisionCompany | None = _optional("The customer's company, if any")
    meta: dict[str, Any] | None = _optional("OTA details about the customer")


class RevisionGuarantee(AsSent):
    """The payment card guaranteeing the booking, masked (guest data). Full card data is
    only on Channex's PCI hosts, never here."""

    card_number: str | None = _optional("Masked card number, e.g. `411111******1111`")
    card_type: str | None = _optional("Card brand code: AX, MC, VI, … or `unknown`")
    cardholder_name: str | None = _optional("Name on the card")
    cvv: str | None = _optional("Masked: `***`")
    expiration_date: str | None = _optional("MM/YYYY")
    is_virtual: bool | None = _optional("A virtual card issued by the OTA")
    meta: dict[str, Any] | None = _optional("Virtual card details (balance, currency, dates)")


class RevisionData(AsSent):
    """Channex's booking revision as Channex sent it (a full snapshot of the booking, not a
    diff), PMS ids added to each room, guest data in place or null."""

    id: str = Field(description="Channex booking revision id")
    booking_id: str = Field(description="Channex booking id")
    property_id: str = Field(description="Channex property id")
    status: RevisionStatus = Field(description="What the OTA message did to the booking")
    unique_id: str | None = _optional(
        "OTA code and the OTA's reservation code, e.g. `BDC-1556013801`: map the OTA by its "
        "prefix, not by `ota_name`"
    )
    system_id: str | None = _optional("Id of the OTA message this revision comes from")
    ota_reservation_code: str | None = _optional("The OTA's reservation code")
    ota_name: str | None = _optional("The OTA, e.g. `Booking.com`, `Airbnb`")
    channel_id: str | None = _optional("Channex channel id")
    inserted_at: str | None = _optional(
        "When Channex recorded the revision: ISO 8601, UTC (with `Z` or without an offset)"
    )
    arrival_date: DateText | None = _optional("Arrival day")
    departure_date: DateText | None = _optional("Departure day")
    arrival_hour: str | None = _optional("Expected arrival time, HH:MM")
    amount: DecimalText | None = _optional("Total price of the booking")
    currency: str | None = _optional("ISO 4217 currency of every price in the revision")
    ota_commission: DecimalText | None = _optional("The OTA's commission")
    payment_collect: str | None = _optional("Who collects the payment: `property`, `ota` or null")
    payment_type: str | None = _optional("`credit_card`, `bank_transfer` or null")
    occupancy: RevisionOccupancy | None = _optional("Who stays, all rooms together")
    rooms: list[RevisionRoom] = Field(description="The booked rooms (always a list)")
    services: list[RevisionService] | None = _optional("Extras booked with the stay")
    customer: RevisionCustomer | None = Field(
        description="Who booked (guest data): always present, null once erased or when no "
        "personal-data key is configured"
    )
    guarantee: RevisionGuarantee | None = Field(
        description="The guaranteeing card, masked (guest data): always present, null when "
        "none, once erased, or when no personal-data key is configured"
    )
    notes: str | None = Field(
        description="The guest's free-text requests (guest data): always present, null when "
        "none, once erased, or when no personal-data key is configured"
    )
    meta: dict[str, Any] | None = _optional("OTA details as Channex gives them (guest data)")


class RevisionRead(BaseModel):
    """One booking revision as delivered to the PMS, pushed or pulled."""

    model_config = ConfigDict(json_schema_extra={"examples": REVISION_EXAMPLES})

    id: str = Field(description="Channex booking revision id")
    booking_id: str = Field(description="Channex booking id")
    property_id: str | None = Field(description="The PMS's property id; null if unknown")
    organization_id: str | None = Field(
        description="The PMS's organization id; null if the property is unknown"
    )
    channex_property_id: str = Field(description="Channex property id")
    status: RevisionStatus = Field(description="new | modified | cancelled")
    sequence: int | None = Field(
        description="Position in the booking's history (1, 2, ...): a PMS can drop any "
        "delivery whose sequence is not above the last one it applied; null when stale"
    )
    inserted_at: datetime = Field(description="When Channex recorded the revision (UTC)")
    flags: list[str] = Field(
        description="unmapped_room_type, unmapped_rate_plan, overbooking, unknown_property, stale"
    )
    acked_at: datetime | None = Field(description="When channel-sync acked it to Channex")
    pulled_at: datetime | None = Field(description="When the PMS acked it on the pull feed")
    personal_data_erased: bool = Field(
        description="The booking's guest data was erased: its fields are null in every revision"
    )
    revision: RevisionData = Field(description="Channex's revision attributes, PMS ids added")


class RevisionDelivery(BaseModel):
    """The body of a push: one revision, signed per Standard Webhooks."""

    model_config = ConfigDict(json_schema_extra={"examples": DELIVERY_EXAMPLES})

    type: Literal["booking.revision"] = Field(description="Always `booking.revision`")
    delivery_id: str = Field(
        description="The delivery's id, equal to the `webhook-id` header: the same on every "
        "retry and replay, so a PMS treats one it has seen as done"
    )
    sequence: int = Field(description="The revision's `sequence` (1, 2, … per booking)")
    data: RevisionRead = Field(description="The revision, as the pull feed lists it")
