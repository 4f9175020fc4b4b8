"""`channel-sync rotate-keys`: what is stored under an old key ends up under the new one."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from app import cli
from app.db import create_engine, create_session_factory
from app.models import PmsEndpoint
from app.settings import get_settings
from tests.factories import seed_pms_endpoints

SECRET = "whsec_c2VjcmV0IG9mIHRoZSBQTVM="


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command reads settings from the environment; the cached ones must not leak."""
    # It would also replace the root log handlers, pytest's capture among them.
    monkeypatch.setattr(cli, "configure_logging", lambda *args: None)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _secrets(url: str) -> list[str]:
    engine = create_engine(url)
    async with create_session_factory(engine)() as session:
        stored = await session.execute(select(PmsEndpoint.secret).order_by(PmsEndpoint.scope))
        secrets = list(stored.scalars())
    await engine.dispose()
    return secrets


def test_rotate_keys_re_encrypts_stored_secrets_under_the_new_key(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    path = tmp_path / "rotate.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    asyncio.run(seed_pms_endpoints(url, SECRET, old_key))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PERSONAL_DATA_KEYS", json.dumps([new_key, old_key]))

    result = CliRunner().invoke(cli.app, ["rotate-keys"])

    assert result.exit_code == 0, result.output
    assert "re-encrypted 2 row(s)" in result.output
    only_new = Fernet(new_key.encode())
    for stored in asyncio.run(_secrets(url)):  # the sealed one, and the one left in clear
        assert stored.startswith("fernet:")
        assert only_new.decrypt(stored.removeprefix("fernet:")).decode() == SECRET


def test_rotate_keys_without_keys_refuses(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite://")
    monkeypatch.setenv("PERSONAL_DATA_KEYS", "[]")

    result = CliRunner().invoke(cli.app, ["rotate-keys"])

    assert result.exit_code == 2
    assert "PERSONAL_DATA_KEYS is not set" in result.output
