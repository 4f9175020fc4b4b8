"""The personal-data key at start-up: production refuses to run without PERSONAL_DATA_KEYS;
development without them generates one key into the data directory and keeps using it."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from app.services.personal_data import (
    DEVELOPMENT_KEY_FILE,
    MISSING_KEYS,
    PersonalDataKeyError,
    build_cipher,
    with_personal_data_keys,
)
from app.settings import Settings


def development(data_dir: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, **values)  # type: ignore[arg-type]


def test_development_generates_a_key_once_into_the_data_directory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"  # not there yet: created with the key

    with caplog.at_level(logging.WARNING, logger="app.services.personal_data"):
        first = with_personal_data_keys(development(data_dir))
    [warning] = caplog.records
    again = with_personal_data_keys(development(data_dir))

    path = data_dir / DEVELOPMENT_KEY_FILE
    [key] = first.personal_data_keys
    assert path.read_text().strip() == key.get_secret_value()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [k.get_secret_value() for k in again.personal_data_keys] == [key.get_secret_value()]
    assert [p.name for p in data_dir.iterdir()] == [DEVELOPMENT_KEY_FILE]  # no draft left
    assert "PERSONAL_DATA_KEYS is not set" in warning.getMessage()
    assert f"generated now in {path}" in warning.getMessage()
    cipher = build_cipher(again)
    assert cipher is not None
    assert Fernet(key.get_secret_value().encode()).decrypt(cipher.encrypt(b"Ada")) == b"Ada"


def test_a_later_start_says_it_reads_the_existing_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with_personal_data_keys(development(tmp_path))
    caplog.clear()

    with caplog.at_level(logging.WARNING, logger="app.services.personal_data"):
        with_personal_data_keys(development(tmp_path))

    [warning] = caplog.records
    assert f"read from {tmp_path / DEVELOPMENT_KEY_FILE}" in warning.getMessage()


def test_production_without_keys_refuses_to_start_and_writes_no_key(tmp_path: Path) -> None:
    settings = development(tmp_path, environment="production")

    with pytest.raises(PersonalDataKeyError) as refused:
        with_personal_data_keys(settings)

    assert str(refused.value) == MISSING_KEYS
    assert "PERSONAL_DATA_KEYS is required when ENVIRONMENT=production" in MISSING_KEYS
    assert list(tmp_path.iterdir()) == []


def test_configured_keys_are_used_as_given_and_nothing_is_written(tmp_path: Path) -> None:
    settings = development(tmp_path, personal_data_keys=[SecretStr(Fernet.generate_key().decode())])

    assert with_personal_data_keys(settings) is settings
    assert list(tmp_path.iterdir()) == []


def test_a_key_file_that_holds_no_fernet_key_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / DEVELOPMENT_KEY_FILE).write_text("not a key\n")

    with pytest.raises(PersonalDataKeyError, match="does not hold a Fernet key"):
        with_personal_data_keys(development(tmp_path))
