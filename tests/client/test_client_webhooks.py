"""The receiver helper verifies what the service signs: deliveries signed with the service's
own signing function (app.services.delivery.signer) pass, anything altered fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from app.schemas_revision_examples import READS
from app.services.delivery import new_secret, signer
from channel_sync_client import RevisionDelivery, SignatureVerificationError, verify_delivery
from channel_sync_client.webhooks import sign

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
MESSAGE_ID = "msg_0123456789abcdef"
# The service's own example of a new booking, ids made short.
REVISION: dict[str, Any] = {**READS[0], "id": "rev-1", "booking_id": "bk-1", "sequence": 1}


def delivery_body(message_id: str = MESSAGE_ID) -> bytes:
    # As app/services/delivery.py builds it: compact JSON, posted as it was signed.
    envelope = {"type": "booking.revision", "delivery_id": message_id, "sequence": 1,
                "data": REVISION}  # fmt: skip
    return json.dumps(envelope, separators=(",", ":")).encode()


def signed_headers(secret: str, body: bytes, at: datetime = NOW) -> dict[str, str]:
    """The headers the service sends, signed by its own function."""
    return {
        "Webhook-Id": MESSAGE_ID,
        "Webhook-Timestamp": str(int(at.timestamp())),
        "Webhook-Signature": signer(secret).sign(MESSAGE_ID, at, body.decode()),
    }


@pytest.mark.parametrize("kind", ["generated", "configured"])
def test_a_delivery_signed_by_the_service_verifies(kind: str) -> None:
    # Ids stay the same on every xdist worker: the generated secret is made in the test.
    secret = new_secret() if kind == "generated" else "a-configured-plain-secret"
    body = delivery_body()
    delivery = verify_delivery(body, signed_headers(secret, body), secret, now=NOW.timestamp())
    assert isinstance(delivery, RevisionDelivery)
    assert (delivery.delivery_id, delivery.sequence, delivery.data.id) == (MESSAGE_ID, 1, "rev-1")
    assert delivery.data.booking_id == "bk-1"


def test_the_clients_own_signature_equals_the_services() -> None:
    secret, body = new_secret(), delivery_body()
    stamp = int(NOW.timestamp())
    assert sign(secret, MESSAGE_ID, stamp, body) == signer(secret).sign(
        MESSAGE_ID, NOW, body.decode()
    )


def test_the_old_or_the_new_secret_verifies_while_rotating() -> None:
    old, new, body = new_secret(), new_secret(), delivery_body()
    headers = signed_headers(old, body)
    assert verify_delivery(body, headers, [new, old], now=NOW.timestamp()).sequence == 1
    with pytest.raises(SignatureVerificationError):
        verify_delivery(body, headers, [new], now=NOW.timestamp())


def test_an_altered_body_fails() -> None:
    secret, body = new_secret(), delivery_body()
    headers = signed_headers(secret, body)
    altered = body.replace(b'"sequence":1', b'"sequence":2')
    with pytest.raises(SignatureVerificationError, match="no matching signature"):
        verify_delivery(altered, headers, secret, now=NOW.timestamp())


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_outside_the_tolerance_fails(skew: int) -> None:
    secret, body = new_secret(), delivery_body()
    headers = signed_headers(secret, body)
    with pytest.raises(SignatureVerificationError, match="tolerance"):
        verify_delivery(body, headers, secret, now=NOW.timestamp() + skew)
    assert verify_delivery(body, headers, secret, now=NOW.timestamp() + skew / 2).sequence == 1


@pytest.mark.parametrize("missing", ["Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"])
def test_a_missing_header_fails(missing: str) -> None:
    secret, body = new_secret(), delivery_body()
    headers = signed_headers(secret, body)
    del headers[missing]
    with pytest.raises(SignatureVerificationError):
        verify_delivery(body, headers, secret, now=NOW.timestamp())


def test_a_signed_body_of_another_delivery_id_fails() -> None:
    secret, body = new_secret(), delivery_body("msg_other")
    with pytest.raises(SignatureVerificationError, match="delivery_id"):
        verify_delivery(body, signed_headers(secret, body), secret, now=NOW.timestamp())


def test_signatures_of_other_versions_and_garbage_are_skipped() -> None:
    secret, body = new_secret(), delivery_body()
    headers = signed_headers(secret, body)
    headers["Webhook-Signature"] = "v2,abc v1,@@@ " + headers["Webhook-Signature"]
    assert verify_delivery(body, headers, secret, now=NOW.timestamp()).sequence == 1


def test_a_channel_state_delivery_verifies_as_one_and_not_as_a_revision() -> None:
    from app.schema_examples import CHANNEL
    from channel_sync_client import delivery_type, verify_channel_delivery

    secret = new_secret()
    envelope = {"type": "channel.state_changed", "delivery_id": MESSAGE_ID, "sequence": 2,
                "property_id": "p-1", "data": CHANNEL}  # fmt: skip
    body = json.dumps(envelope, separators=(",", ":")).encode()
    headers = signed_headers(secret, body)

    assert delivery_type(body) == "channel.state_changed"
    assert delivery_type(delivery_body()) == "booking.revision"
    delivery = verify_channel_delivery(body, headers, secret, now=NOW.timestamp())
    assert (delivery.sequence, delivery.data.state, delivery.property_id) == (2, "live", "p-1")
    assert delivery.data.go_live.import_.bookings_received == 3
    with pytest.raises(SignatureVerificationError, match="not a booking revision"):
        verify_delivery(body, headers, secret, now=NOW.timestamp())
    with pytest.raises(SignatureVerificationError, match="no matching signature"):
        verify_channel_delivery(body, signed_headers(new_secret(), body), secret,
                                now=NOW.timestamp())  # fmt: skip
