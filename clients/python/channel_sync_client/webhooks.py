"""The PMS's side of a push delivery: check its Standard Webhooks signature, then parse it.

channel-sync POSTs each booking revision with three headers: `webhook-id` (the delivery's
stable id: the same on every retry and replay, so a PMS can drop duplicates),
`webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature` (`v1,<base64>`:
HMAC-SHA256 over `{id}.{timestamp}.{body}` with the endpoint's secret; several signatures
may be given, separated by spaces). Verify the raw body bytes, before any JSON parsing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import TypeVar

from pydantic import ValidationError

from channel_sync_client import models as m

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300  # what the Standard Webhooks libraries accept


# The body of a push, generated from the service's schema (its `webhooks` entry) like the
# other models, so that it cannot drift from what the service sends.
RevisionDelivery = m.RevisionDelivery
ChannelStateDelivery = m.ChannelStateDelivery
DeliveryT = TypeVar("DeliveryT", RevisionDelivery, ChannelStateDelivery)


class SignatureVerificationError(Exception):
    """The delivery is not from channel-sync (or not this endpoint's): answer 401, do not
    apply it."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of an endpoint secret, decoded as the service does: `whsec_` + base64
    (the secrets it issues), any other configured secret as its UTF-8 bytes."""
    if not secret.startswith(SECRET_PREFIX):
        key = secret.encode()
    else:
        try:
            key = base64.b64decode(secret.removeprefix(SECRET_PREFIX) + "==")
        except binascii.Error as exc:
            raise ValueError("a whsec_ secret must be base64") from exc
    if not key:
        raise ValueError("the secret is empty")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value (`v1,<base64>`) of a body: for tests of a receiver."""
    return (
        "v1," + base64.b64encode(_digest(secret_key(secret), message_id, timestamp, body)).decode()
    )


def verify_delivery(
    body: bytes | str,
    headers: Mapping[str, str],
    secrets: str | Sequence[str],
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> RevisionDelivery:
    """The delivery, once its signature matches one of `secrets` (give the old and the new
    one while rotating) and its timestamp is within `tolerance_seconds` of `now` (a replayed
    old request fails); else `SignatureVerificationError`."""
    raw, message_id = _verified(body, headers, secrets, tolerance_seconds, now)
    return _parsed(RevisionDelivery, raw, message_id, "a booking revision delivery")


def delivery_type(body: bytes | str) -> str | None:
    """The `type` of a delivery body (`booking.revision`, `channel.state_changed`), read
    without trusting it, to choose the verify function; None when there is none."""
    try:
        found = json.loads(body)
    except ValueError:
        return None
    kind = found.get("type") if isinstance(found, dict) else None
    return kind if isinstance(kind, str) else None


def verify_channel_delivery(
    body: bytes | str,
    headers: Mapping[str, str],
    secrets: str | Sequence[str],
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> ChannelStateDelivery:
    """A `channel.state_changed` delivery (an endpoint subscribed with `channel_events`),
    checked as `verify_delivery` checks a revision."""
    raw, message_id = _verified(body, headers, secrets, tolerance_seconds, now)
    return _parsed(ChannelStateDelivery, raw, message_id, "a channel state delivery")


def _parsed(model: type[DeliveryT], raw: bytes, message_id: str, what: str) -> DeliveryT:
    """The verified body as `model`, whose `delivery_id` must be the signed `webhook-id`."""
    try:
        delivery = model.model_validate_json(raw)
    except ValidationError as exc:
        raise SignatureVerificationError(f"signed, but not {what}") from exc
    if delivery.delivery_id != message_id:
        raise SignatureVerificationError("webhook-id does not match the delivery_id")
    return delivery


def _verified(
    body: bytes | str,
    headers: Mapping[str, str],
    secrets: str | Sequence[str],
    tolerance_seconds: float,
    now: float | None,
) -> tuple[bytes, str]:
    """The raw body and its `webhook-id`, once a signature matches; else raises."""
    raw = body.encode() if isinstance(body, str) else body
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id, timestamp = _signed_headers(lowered, tolerance_seconds, now)
    keys = [secret_key(s) for s in ([secrets] if isinstance(secrets, str) else secrets)]
    if not any(_matches(key, message_id, timestamp, raw, lowered) for key in keys):
        raise SignatureVerificationError("no matching signature")
    return raw, message_id


def _signed_headers(
    headers: Mapping[str, str], tolerance: float, now: float | None
) -> tuple[str, int]:
    message_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp", "")
    if not message_id or not headers.get("webhook-signature"):
        raise SignatureVerificationError("missing webhook-id or webhook-signature")
    if not stamp.isdigit():
        raise SignatureVerificationError("webhook-timestamp is not Unix seconds")
    timestamp = int(stamp)
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureVerificationError("webhook-timestamp outside the tolerance")
    return message_id, timestamp


def _matches(
    key: bytes, message_id: str, timestamp: int, body: bytes, headers: Mapping[str, str]
) -> bool:
    expected = _digest(key, message_id, timestamp, body)
    for candidate in headers["webhook-signature"].split():
        version, _, encoded = candidate.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        # Constant time: how many bytes matched must not leak through the timing.
        if hmac.compare_digest(expected, given):
            return True
    return False


def _digest(key: bytes, message_id: str, timestamp: int, body: bytes) -> bytes:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()
