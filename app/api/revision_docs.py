"""The booking revision in the OpenAPI document: the push as the `booking.revision` webhook,
and the revision's examples with their nulls.

channel-sync is the client of the push: the operation documents the POST it sends to the
PMS's endpoint (app/services/delivery.py), not a route it serves, so it sits under `webhooks`,
never under `paths`. The replies and retry schedule are those of app/domain/delivery.py.
FastAPI renders the document without None values, examples included; a revision's nulls are
its point (erased guest data, unmapped ids), so its examples are put back as written.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any

from fastapi import FastAPI, Header

from app.domain.delivery import JITTER, MAX_RETRY_AFTER, RETRY_SCHEDULE
from app.schemas import ChannelStateDelivery
from app.schemas_revision import RevisionDelivery, RevisionRead

EVENT = "booking.revision"
CHANNEL_EVENT = "channel.state_changed"


def _duration(seconds: int) -> str:
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def retry_schedule_text() -> str:
    """The schedule in words, from the numbers the code uses."""
    delays = ", ".join(_duration(s) for s in RETRY_SCHEDULE)
    total_days = sum(RETRY_SCHEDULE) / 86400
    return (
        f"After each failed attempt the next one waits {delays} (each ±{JITTER:.0%} at "
        f"random): {len(RETRY_SCHEDULE) + 1} attempts over about {total_days:.1f} days. After "
        "the last the delivery has failed for good: `GET /v1/bookings/problems` lists it, and "
        "`POST /v1/bookings/revisions/{revision_id}/replay` sends it again."
    )


RECOVERY = (
    "While an endpoint fails, its oldest pending delivery is also sent every "
    "`PMS_PROBE_INTERVAL_SECONDS` (15 s by default), never before a `Retry-After` it gave; a "
    "failed probe spends none of that delivery's attempts. Once the endpoint accepts one, its "
    "whole backlog is sent at once, each booking in `sequence` order."
)


def _description() -> str:
    return (
        "Each booking revision is POSTed to the organization's endpoint (`PUT "
        "/v1/organizations/{org_id}/booking-endpoint`, else the operator's global one), "
        "signed per Standard Webhooks. Revisions of one booking are sent one at a time in "
        "`sequence` order: revision n+1 waits until n is delivered. A revision can arrive more "
        "than once (a retry after a lost answer, a replay): treat a `webhook-id` seen before "
        "as done.\n\n" + retry_schedule_text() + "\n\n" + RECOVERY
    )


def _channel_description() -> str:
    return (
        "Each change of a channel's connection state (`pending`, `live`, `disconnected`, "
        "`error`, `removal_warning`; see `GET /v1/properties/{property_id}/channels`) is POSTed "
        "to the same endpoint as bookings, signed the same way. `data` is the channel as it "
        "was right after the change, its next steps and go-live included. Changes of one "
        "channel are sent in `sequence` order: n+1 waits while n is retried, on the schedule "
        "of booking revisions. Each one carries the whole state, so one whose retries are "
        "spent is given up and the next one is sent; `GET .../channels` always answers the "
        "state now. Tell the two events apart by the body's `type`."
    )


WebhookId = Annotated[
    str,
    Header(
        alias="webhook-id",
        description="The delivery's id (`msg_…`), equal to the body's `delivery_id`: the same "
        "on every retry and replay",
    ),
]
WebhookTimestamp = Annotated[
    str,
    Header(
        alias="webhook-timestamp",
        description="When this attempt was signed, in seconds since the epoch; refuse one too "
        "far from now (replays)",
        pattern=r"^\d+$",
    ),
]
WebhookSignature = Annotated[
    str,
    Header(
        alias="webhook-signature",
        description="`v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, "
        "keyed with the base64-decoded part of the secret after `whsec_`; several may be "
        "sent, space-separated: accept the delivery if one matches",
    ),
]

RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait: the retry waits that long when it is longer than the "
        f"schedule's delay (at most {MAX_RETRY_AFTER / 3600:.0f} h); the HTTP-date form is "
        "ignored",
        "schema": {"type": "integer", "minimum": 0},
    }
}
RESPONSES: dict[str, Any] = {
    "2XX": {"description": "Accepted: the revision is delivered, the booking's next one is sent."},
    "410": {
        "description": "Gone: channel-sync disables the endpoint and sends nothing more to it "
        "until the PMS PUTs its booking endpoint again (which re-enables it; deliveries resume "
        "where they stopped). The revision is not counted as delivered."
    },
    "default": {
        "description": "Any other answer (3xx, which is never followed, other 4xx, 5xx), a "
        "timeout (`PMS_DELIVERY_TIMEOUT_SECONDS`) or no connection: retried on the schedule "
        "in the description; a `Retry-After` on the answer is honoured.",
        "headers": RETRY_AFTER_HEADER,
    },
}


CHANNEL_RESPONSES: dict[str, Any] = {
    **RESPONSES,
    "2XX": {"description": "Accepted: the channel's next change, if any, is sent."},
}

# Examples as written, nulls kept (the schema pydantic renders has them untouched).
EXAMPLES = {
    model.__name__: model.model_json_schema()["examples"]
    for model in (RevisionRead, RevisionDelivery)
}


def declare_webhooks(app: FastAPI) -> None:
    """Declare the pushes as the app's OpenAPI webhooks (`document_revision` then finishes
    them in the rendered document)."""

    @app.webhooks.post(
        EVENT,
        name="booking_revision",
        operation_id="booking_revision",
        summary="A booking revision, pushed to the PMS",
        description=_description(),
    )
    def booking_revision(
        body: RevisionDelivery,
        webhook_id: WebhookId,
        webhook_timestamp: WebhookTimestamp,
        webhook_signature: WebhookSignature,
    ) -> None:
        """Never called: it only documents what channel-sync sends."""

    @app.webhooks.post(
        CHANNEL_EVENT,
        name="channel_state_changed",
        operation_id="channel_state_changed",
        summary="A channel's connection state changed, pushed to the PMS",
        description=_channel_description(),
    )
    def channel_state_changed(
        body: ChannelStateDelivery,
        webhook_id: WebhookId,
        webhook_timestamp: WebhookTimestamp,
        webhook_signature: WebhookSignature,
    ) -> None:
        """Never called: it only documents what channel-sync sends."""


def document_revision(document: dict[str, Any]) -> None:
    """The webhook's replies (FastAPI documents a 200 and a 422 of its own) and the examples
    with their nulls, in place."""
    document["webhooks"][EVENT]["post"]["responses"] = copy.deepcopy(RESPONSES)
    document["webhooks"][CHANNEL_EVENT]["post"]["responses"] = copy.deepcopy(CHANNEL_RESPONSES)
    schemas = document["components"]["schemas"]
    for name, examples in EXAMPLES.items():
        schemas[name]["examples"] = copy.deepcopy(examples)
