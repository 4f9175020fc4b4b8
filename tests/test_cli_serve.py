"""`channel-sync serve` hands uvicorn the settings the service needs from it."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from app import cli
from app.settings import get_settings


def test_serve_keeps_idle_connections_longer_than_clients_keep_theirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """uvicorn's default of 5 s equals httpx's own: closing a connection as a client reuses
    it lost a webhook's first attempt (and Channex retries only a minute later)."""
    ran: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: ran.append(kwargs))
    monkeypatch.setattr(gc, "freeze", lambda: None)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["serve", "--port", "8123"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    [kwargs] = ran
    assert kwargs["port"] == 8123
    assert kwargs["timeout_keep_alive"] > 60  # above httpx's 5 s and load balancers' 60 s
