"""The console's session cookie: who logged in, until when, and the CSRF token of the session,
signed with HMAC-SHA256 so that it cannot be forged or altered.

No server-side store: the cookie carries everything, and its signature is checked on every
request. Logout clears the cookie; an old copy still works until it expires (8 h), which is
why the lifetime is short.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from app.settings import Settings

COOKIE = "console_session"
LIFETIME_SECONDS = 8 * 3600


@dataclass(frozen=True)
class ConsoleSession:
    operator: str
    csrf: str
    expires: float


class Signer:
    def __init__(self, settings: Settings) -> None:
        secret = settings.console_secret
        # Random per process when unset: sessions end with a restart, which is safe.
        raw = secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
        self._key = hashlib.sha256(b"channel-sync console session\0" + raw).digest()

    def issue(self, operator: str, *, now: float | None = None) -> tuple[str, ConsoleSession]:
        expires = (now or time.time()) + LIFETIME_SECONDS
        session = ConsoleSession(operator, secrets.token_urlsafe(32), expires)
        body = json.dumps({"o": operator, "c": session.csrf, "e": expires}).encode()
        payload = base64.urlsafe_b64encode(body).decode()
        return f"{payload}.{self._sign(payload)}", session

    def read(self, cookie: str | None, *, now: float | None = None) -> ConsoleSession | None:
        """The session a cookie holds, if its signature is ours and it has not expired."""
        if not cookie or "." not in cookie:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload))
            session = ConsoleSession(str(data["o"]), str(data["c"]), float(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > (now or time.time()) else None

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


def csrf_ok(session: ConsoleSession, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(session.csrf, presented)
