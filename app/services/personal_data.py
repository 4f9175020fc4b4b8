"""Guest data: split out of a revision, encrypted at rest (MultiFernet), erasable.

Guest name, email, phone and address live in a revision's `customer`, its rooms' `guests`,
the card holder in `guarantee`, and free text in `notes` (channex-api.md §7.1). They are
stored only as a Fernet token; with no key configured they are not stored at all.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.settings import Settings

log = logging.getLogger(__name__)

TOP_LEVEL = ("customer", "guarantee", "notes")


class PersonalDataKeyError(RuntimeError):
    """Production without PERSONAL_DATA_KEYS: guest data would have nowhere safe to go."""


MISSING_KEYS = (
    "PERSONAL_DATA_KEYS is required when ENVIRONMENT=production: guest data and PMS signing"
    " secrets are stored only encrypted. Set it to a JSON list of Fernet keys, e.g."
    " PERSONAL_DATA_KEYS='[\"<key>\"]' with a key from"
    " `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
)
# Stored PMS signing secrets carry this prefix when encrypted; older rows are in clear.
SEALED = "fernet:"


def build_cipher(settings: Settings) -> MultiFernet | None:
    """The first key encrypts, every key decrypts (rotation: prepend the new key)."""
    keys = [k.get_secret_value() for k in settings.personal_data_keys]
    if not keys:
        if settings.environment == "production":
            raise PersonalDataKeyError(MISSING_KEYS)
        return None
    return MultiFernet([Fernet(key.encode()) for key in keys])


def require_keys(settings: Settings) -> None:
    """At start-up: refuse to run in production without keys (and with a malformed key),
    rather than fail later on the first booking."""
    build_cipher(settings)


def seal_secret(cipher: MultiFernet | None, secret: str) -> str:
    """A PMS signing secret as stored: encrypted when keys are configured."""
    return secret if cipher is None else SEALED + cipher.encrypt(secret.encode()).decode()


def open_secret(cipher: MultiFernet | None, stored: str) -> str:
    """The secret back; a clear (older, or keyless development) value passes through."""
    if not stored.startswith(SEALED):
        return stored
    if cipher is None:
        raise PersonalDataKeyError("a PMS signing secret is encrypted but no key is configured")
    return cipher.decrypt(stored.removeprefix(SEALED).encode()).decode()


def split_personal(attrs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(attributes without guest data, the guest data) — their merge gives back `attrs`."""
    clean = {k: v for k, v in attrs.items() if k not in TOP_LEVEL}
    personal: dict[str, Any] = {k: attrs[k] for k in TOP_LEVEL if k in attrs}
    rooms = attrs.get("rooms")
    if isinstance(rooms, list):
        clean["rooms"] = [
            {k: v for k, v in r.items() if k != "guests"} if isinstance(r, dict) else r
            for r in rooms
        ]
        personal["room_guests"] = [r.get("guests") if isinstance(r, dict) else None for r in rooms]
    return clean, personal


def merge_personal(clean: dict[str, Any], personal: dict[str, Any] | None) -> dict[str, Any]:
    """The revision as the PMS sees it: guest data back in place (None once erased)."""
    merged = dict(clean)
    personal = personal or {}
    for key in TOP_LEVEL:
        merged[key] = personal.get(key)
    guests = personal.get("room_guests") or []
    rooms = merged.get("rooms")
    if isinstance(rooms, list):
        merged["rooms"] = [
            {**room, "guests": guests[i] if i < len(guests) else None}
            if isinstance(room, dict)
            else room
            for i, room in enumerate(rooms)
        ]
    return merged


def encrypt(cipher: MultiFernet | None, personal: dict[str, Any]) -> str | None:
    if cipher is None:
        return None
    return cipher.encrypt(json.dumps(personal, separators=(",", ":")).encode()).decode()


def decrypt(cipher: MultiFernet | None, token: str | None) -> dict[str, Any] | None:
    """The guest data, or None (erased, never stored, or no key can read it any more)."""
    if cipher is None or token is None:
        return None
    try:
        data: dict[str, Any] = json.loads(cipher.decrypt(token.encode()))
    except InvalidToken:
        log.error("personal data token unreadable with the configured keys")
        return None
    return data


def rotate(cipher: MultiFernet, token: str) -> str:
    """Re-encrypt under the first key (run after adding a key, before dropping the old one)."""
    return cipher.rotate(token.encode()).decode()
