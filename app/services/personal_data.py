"""Guest data: split out of a revision, encrypted at rest (MultiFernet), erasable.

Guest name, email, phone and address live in a revision's `customer`, its rooms' `guests`,
the card holder in `guarantee`, and free text in `notes` (channex-api.md §7.1). What is kept
in clear is an allow-list of the fields known to hold none of it; everything else, a field
Channex adds later included, is guest data by default. Guest data is stored only as a Fernet
token. Production refuses to start without a key; development without one uses a key of its
own, generated once into the data directory, so that guest names are never silently dropped.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from app.settings import Settings

log = logging.getLogger(__name__)

# Revision attributes known to hold no guest data (channex-api.md §7.1, the booking object's
# extras included). `meta` and `raw_message` are not among them: their content is open.
NON_PERSONAL = frozenset({
    "id", "booking_id", "revision_id", "property_id", "unique_id", "system_id",
    "ota_reservation_code", "ota_name", "status", "rooms", "services", "occupancy",
    "arrival_date", "departure_date", "arrival_hour", "amount", "currency",
    "payment_collect", "payment_type", "ota_commission", "inserted_at", "channel_id",
    "deposits", "secondary_ota", "acknowledge_status", "has_unacked_revisions",
    "is_crs_revision", "amount_type",
})  # fmt: skip
# A room's attributes known to hold no guest data; its `guests` (names) are guest data.
NON_PERSONAL_ROOM = frozenset({
    "checkin_date", "checkout_date", "room_type_id", "rate_plan_id", "occupancy", "services",
    "taxes", "collected_taxes", "amount", "days", "meta", "ota_unique_id", "booking_room_id",
    "is_cancelled",
})  # fmt: skip
# Once erased (or never stored), these show as null: the PMS keeps seeing the fields it knows.
ERASED_AS_NULL = ("customer", "guarantee", "notes")
ROOMS = "rooms"


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


# In the data directory, when PERSONAL_DATA_KEYS is unset outside production.
DEVELOPMENT_KEY_FILE = "personal-data.key"


def with_personal_data_keys(settings: Settings) -> Settings:
    """At start-up, the settings the process then runs with: refused in production without
    keys (and with a malformed key) rather than failing on the first booking; in development
    without keys, given the data directory's own key, so that guest data is kept."""
    if settings.personal_data_keys or settings.environment == "production":
        build_cipher(settings)
        return settings
    path = (settings.data_dir / DEVELOPMENT_KEY_FILE).resolve()
    key, created = load_development_key(path)
    log.warning(
        "PERSONAL_DATA_KEYS is not set: guest data is encrypted with the development key %s %s"
        " (keep it with the database: without it that data is unreadable); production"
        " requires PERSONAL_DATA_KEYS",
        "generated now in" if created else "read from",
        path,
    )
    return settings.model_copy(update={"personal_data_keys": [SecretStr(key)]})


def load_development_key(path: Path) -> tuple[str, bool]:
    """The Fernet key in `path` (mode 0600), generated when there is none: (key, created).
    Processes starting together (API and worker) all end with the first one's key: it is
    written whole to a file of its own, then linked into place, which fails if one exists."""
    if path.exists():
        return _read_key(path), False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".personal-data-key-")  # mode 0600
    try:
        with os.fdopen(fd, "w") as file:
            file.write(key + "\n")
        os.link(draft, path)
    except FileExistsError:
        return _read_key(path), False
    finally:
        os.unlink(draft)
    return key, True


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    try:
        Fernet(key.encode())
    except ValueError as exc:
        raise PersonalDataKeyError(f"{path} does not hold a Fernet key") from exc
    return key


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
    """(attributes without guest data, the guest data) — their merge gives back `attrs`. The
    guest data holds every attribute not on the allow-list, and per room the room's own."""
    clean = {k: v for k, v in attrs.items() if k in NON_PERSONAL}
    personal: dict[str, Any] = {k: v for k, v in attrs.items() if k not in NON_PERSONAL}
    rooms = attrs.get(ROOMS)
    if isinstance(rooms, list):
        clean[ROOMS] = [_part(r, keep=True) if isinstance(r, dict) else r for r in rooms]
        personal[ROOMS] = [_part(r, keep=False) if isinstance(r, dict) else None for r in rooms]
    return clean, personal


def merge_personal(clean: dict[str, Any], personal: dict[str, Any] | None) -> dict[str, Any]:
    """The revision as the PMS sees it: guest data back in place (None once erased)."""
    personal = personal or {}
    merged = {**clean, **dict.fromkeys(ERASED_AS_NULL)}
    merged.update((k, v) for k, v in personal.items() if k not in (ROOMS, "room_guests"))
    rooms = merged.get(ROOMS)
    if isinstance(rooms, list):
        parts = _room_parts(personal)
        merged[ROOMS] = [
            {**room, "guests": None, **(parts[i] if i < len(parts) else {})}
            if isinstance(room, dict)
            else room
            for i, room in enumerate(rooms)
        ]
    return merged


def _part(room: dict[str, Any], *, keep: bool) -> dict[str, Any]:
    return {k: v for k, v in room.items() if (k in NON_PERSONAL_ROOM) is keep}


def _room_parts(personal: dict[str, Any]) -> list[dict[str, Any]]:
    """Each room's guest data; tokens written before the allow-list kept only `room_guests`."""
    if "room_guests" in personal:
        return [{"guests": guests} for guests in personal["room_guests"] or []]
    return [part if isinstance(part, dict) else {} for part in personal.get(ROOMS) or []]


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
