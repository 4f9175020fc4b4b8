"""Settings for `channel-sync serve --sandbox`: the service wired to a sandbox it hosts."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI
from pydantic import SecretStr

from app.sandbox.state import SandboxState
from app.settings import DEFAULT_DATABASE_URL, ApiKey, Settings

# A fixed, documented key for the local walk-through: a sandbox holds no real data.
SANDBOX_PMS_KEY = "sandbox-pms-key"
# The sandbox keeps its Channex in memory, so its ids die with the process: a database that
# outlived it would map to entities that no longer exist (every call then 404s), and one
# shared with `serve` would mix sandbox ids with real ones. The default gets its own file,
# emptied at each start.
SANDBOX_DATABASE_FILE = "channel-sync-sandbox.db"
SANDBOX_DATABASE_URL = f"sqlite+aiosqlite:///./{SANDBOX_DATABASE_FILE}"


def sandbox_settings(settings: Settings, sandbox: FastAPI, *, port: int) -> Settings:
    """Point the Channex client at the mounted sandbox, with the sandbox's own key."""
    state: SandboxState = sandbox.state.sandbox
    update: dict[str, object] = {
        "channex_api_url": f"http://127.0.0.1:{port}/channex-sandbox/api/v1",
        "channex_api_key": SecretStr(state.config.api_key),
        "channex_sync_enabled": True,
        # The sandbox posts its webhooks back to this process, over loopback.
        "public_base_url": f"http://127.0.0.1:{port}",
        "allow_private_callbacks": True,
    }
    if settings.database_url == DEFAULT_DATABASE_URL:
        update["database_url"] = SANDBOX_DATABASE_URL
    if settings.channex_user_id is None:
        # The sandbox's `ari` webhooks name the user our key acts as: without it, our own
        # pushes would be taken for someone else's changes, each followed by a drift check
        # whose reads take the writes' rate budget.
        update["channex_user_id"] = state.user_id
    if settings.channex_webhook_secret is None:
        update["channex_webhook_secret"] = SecretStr(secrets.token_urlsafe(24))
    if not settings.api_keys:
        update["api_keys"] = [ApiKey(name="sandbox", key=SecretStr(SANDBOX_PMS_KEY))]
    return settings.model_copy(update=update)


def reset_sandbox_database(settings: Settings) -> None:
    """Empty the sandbox's own database file (never a database the user named)."""
    if settings.database_url != SANDBOX_DATABASE_URL:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(SANDBOX_DATABASE_FILE + suffix).unlink(missing_ok=True)


def sandbox_banner(settings: Settings, port: int) -> str:
    """What a newcomer needs to start the walk-through; real keys are named, never shown."""
    keys = ", ".join(
        k.key.get_secret_value() if k.key.get_secret_value() == SANDBOX_PMS_KEY else k.name
        for k in settings.api_keys
    )
    return (
        f"channel-sync with a Channex sandbox on http://127.0.0.1:{port}\n"
        f"  API key(s): {keys}\n"
        f"  database: {settings.database_url}\n"
        f"  Channex sandbox API: {settings.channex_api_url}\n"
        f"  sandbox tools: http://127.0.0.1:{port}/channex-sandbox/sandbox/..."
    )
