"""Run the sandbox on its own with uvicorn (`channel-sync sandbox`)."""

from __future__ import annotations

import uvicorn

from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig


def run(host: str = "127.0.0.1", port: int = 8081, config: SandboxConfig | None = None) -> None:
    """Serve a fresh sandbox until interrupted; its base URL is http://host:port/api/v1."""
    uvicorn.run(create_sandbox_app(config), host=host, port=port)
