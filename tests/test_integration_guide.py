"""The push receiver printed in docs/integration.md works against deliveries signed the way
channel-sync signs them (app.services.delivery): it accepts a good one, refuses a forged or
stale one, and hands a redelivered webhook-id to the PMS only once."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.services.delivery import new_secret, signer

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "integration.md"


def receiver_source() -> str:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)
    [source] = [b for b in blocks if "class Receiver" in b]
    return str(source)


def test_the_receiver_is_about_twenty_lines() -> None:
    lines = [line for line in receiver_source().splitlines() if line.strip()]
    assert len(lines) <= 30, len(lines)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
    """The guide's receiver on a free port: (its URL, its secret, what it handed on)."""
    secret = new_secret()  # as PUT .../booking-endpoint issues it
    monkeypatch.setenv("SIGNING_SECRET", secret)
    namespace: dict[str, Any] = {"__name__": "guide"}
    exec(compile(receiver_source(), str(GUIDE), "exec"), namespace)  # the guide's own code
    handled: list[dict[str, Any]] = []
    namespace["handle"] = handled.append
    server = HTTPServer(("127.0.0.1", 0), namespace["Receiver"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", secret, handled
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def signed(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The headers app.services.delivery._post sends."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signer(secret).sign(message_id, at, body),
    }


def envelope(message_id: str) -> str:
    data = {"id": "rev-1", "booking_id": "bk-1", "status": "new", "sequence": 1}
    payload = {"type": "booking.revision", "delivery_id": message_id, "sequence": 1, "data": data}
    return json.dumps(payload, separators=(",", ":"))


def test_a_signed_delivery_is_accepted_once_and_a_redelivery_is_acked(
    receiver: tuple[str, str, list[dict[str, Any]]],
) -> None:
    url, secret, handled = receiver
    body = envelope("msg_1")
    now = datetime.now(UTC)
    first = httpx.post(url, content=body, headers=signed(secret, "msg_1", body, now))
    again = httpx.post(url, content=body, headers=signed(secret, "msg_1", body, now))
    assert (first.status_code, again.status_code) == (204, 204)
    assert handled == [json.loads(body)]


def test_a_forged_or_stale_delivery_is_refused(
    receiver: tuple[str, str, list[dict[str, Any]]],
) -> None:
    url, secret, handled = receiver
    body = envelope("msg_2")
    now = datetime.now(UTC)
    forged = signed(new_secret(), "msg_2", body, now)
    stale = signed(secret, "msg_2", body, now - timedelta(minutes=10))
    tampered = signed(secret, "msg_2", body, now)
    answers = [
        httpx.post(url, content=body, headers=forged).status_code,
        httpx.post(url, content=body, headers=stale).status_code,
        httpx.post(url, content=body.replace("new", "cancelled"), headers=tampered).status_code,
    ]
    assert answers == [401, 401, 401]
    assert handled == []
