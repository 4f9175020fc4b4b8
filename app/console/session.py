"""The console's session cookie: who logged in, until when, and the CSRF token of the session,
signed with HMAC-SHA256 so that it cannot be forged or altered. The same signer seals the
console's two short-lived cookies: the login form's CSRF token and the next page's flash.

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
# Before login there is no session to hold a CSRF token: the login form's token is a signed
# cookie of its own, sent back as a hidden field (double submit).
LOGIN_COOKIE = "console_login"
LOGIN_LIFETIME_SECONDS = 3600
# The message an action leaves for the page it redirects to: a cookie, never the URL (which
# lands in history, logs and Referer headers).
FLASH_COOKIE = "console_flash"
FLASH_LIFETIME_SECONDS = 60


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

    def seal(self, purpose: str, value: str, lifetime: float, *, now: float | None = None) -> str:
        """`value` signed for `purpose` until `lifetime` seconds from now. The key is derived
        per purpose, so a cookie sealed for one use is worthless for another (or as a session)."""
        body = json.dumps({"v": value, "e": (now or time.time()) + lifetime}).encode()
        payload = base64.urlsafe_b64encode(body).decode()
        return f"{payload}.{self._sign(payload, purpose)}"

    def unseal(self, purpose: str, sealed: str | None, *, now: float | None = None) -> str | None:
        """The value `seal` sealed for `purpose`, if the signature holds and it has not expired."""
        if not sealed or "." not in sealed:
            return None
        payload, signature = sealed.rsplit(".", 1)
        if not hmac.compare_digest(self._sign(payload, purpose), signature):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload))
            value, expires = str(data["v"]), float(data["e"])
        except (ValueError, KeyError, TypeError):
            return None
        return value if expires > (now or time.time()) else None

    def _sign(self, payload: str, purpose: str | None = None) -> str:
        key = self._key
        if purpose is not None:
            key = hmac.new(self._key, b"purpose\0" + purpose.encode(), hashlib.sha256).digest()
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def csrf_ok(session: ConsoleSession, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(session.csrf, presented)


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def login_csrf_ok(expected: str | None, presented: str | None) -> bool:
    """The login form's hidden token matches its signed cookie's (both present)."""
    return bool(expected and presented) and hmac.compare_digest(str(expected), str(presented))
