"""Settings for `channel-sync serve --sandbox`: the service wired to a sandbox it hosts."""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from pydantic import SecretStr

from app.sandbox.state import SandboxState
from app.settings import ApiKey, Settings

# A fixed, documented key for the local walk-through: a sandbox holds no real data.
SANDBOX_PMS_KEY = "sandbox-pms-key"


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
    if settings.channex_webhook_secret is None:
        update["channex_webhook_secret"] = SecretStr(secrets.token_urlsafe(24))
    if not settings.api_keys:
        update["api_keys"] = [ApiKey(name="sandbox", key=SecretStr(SANDBOX_PMS_KEY))]
    return settings.model_copy(update=update)
