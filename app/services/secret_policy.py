"""Secrets strong enough to face the internet: checked at start-up in production.

An API key or webhook secret short enough to guess is refused before anything is opened,
with what to do instead; development keeps short keys for local trials.
"""

from __future__ import annotations

from app.settings import Settings

# 32 characters of a random alphabet: far past any online guessing, and what
# `python -c 'import secrets; print(secrets.token_urlsafe(32))'` (43 characters) gives.
MIN_SECRET_LENGTH = 32
ADVICE = (
    "use at least 32 random characters, e.g. "
    "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
)


class WeakSecretError(ValueError):
    """A secret too weak to run in production with."""


def weak_secrets(settings: Settings) -> list[str]:
    """The names of the configured secrets that are too weak (too short or one repeated
    character)."""
    found = [
        f"API key {key.name!r}" for key in settings.api_keys if _weak(key.key.get_secret_value())
    ]
    secret = settings.channex_webhook_secret
    if secret is not None and _weak(secret.get_secret_value()):
        found.append("CHANNEX_WEBHOOK_SECRET")
    return found


def require_strong_secrets(settings: Settings) -> None:
    """At start-up, in production: refuse weak secrets rather than serve with them."""
    if settings.environment != "production":
        return
    weak = weak_secrets(settings)
    if weak:
        raise WeakSecretError(f"weak secrets in production: {', '.join(weak)}; {ADVICE}")


def _weak(value: str) -> bool:
    return len(value) < MIN_SECRET_LENGTH or len(set(value)) < 2
