"""Readiness warnings from the settings and the recorded webhook check: only what applies."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr

from app.services.readiness import configuration_warnings, registration_warning
from app.settings import Settings

FAILED_AT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def configured(**values: object) -> Settings:
    base: dict[str, object] = {
        "channex_api_key": SecretStr("key"),
        "public_base_url": "https://sync.example.com",
        "channex_webhook_secret": SecretStr("secret"),
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[arg-type]


def test_without_channex_nothing_is_said_about_its_webhook_or_user() -> None:
    for settings in (
        configured(channex_sync_enabled=False, public_base_url=None, environment="production"),
        configured(channex_api_key=None, channex_webhook_secret=None),
    ):
        assert configuration_warnings(settings) == []
        assert registration_warning(settings, FAILED_AT) == []


def test_the_user_id_matters_only_in_production_with_the_ari_webhook_check_on() -> None:
    production = configured(environment="production")

    assert [w.code for w in configuration_warnings(production)] == ["channex_user_id_missing"]
    off = production.model_copy(update={"ari_webhook_drift_check": False})
    assert configuration_warnings(off) == []
    assert configuration_warnings(configured()) == []


def test_a_recorded_failure_is_one_warning_saying_when() -> None:
    [warning] = registration_warning(configured(), FAILED_AT)

    assert warning.code == "webhook_not_registered"
    assert "failed at 2026-12-03T09:30:00+00:00" in warning.detail
    assert registration_warning(configured(), None) == []
    # Unset settings are reported by configuration_warnings alone, never twice.
    assert registration_warning(configured(public_base_url=None), FAILED_AT) == []
