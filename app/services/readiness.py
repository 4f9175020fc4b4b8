"""What `/health/ready` says beside its checks: warnings that do not fail readiness, and the
backlog. Both come from the settings and the database, so that every replica answers alike."""

from __future__ import annotations

from datetime import datetime

from app.db import utcnow
from app.schemas import ReadinessBacklog, ReadinessWarning
from app.services.backlog import Backlog
from app.services.webhook_registration import callback_url, desired_webhook
from app.settings import Settings

NO_WEBHOOK = (
    "{missing}: no Channex webhook is registered, so bookings arrive only by the"
    " reconciliation of Channex's feed (every BOOKING_RECONCILE_INTERVAL_SECONDS)"
)
CHECK_FAILED = (
    "the last check of the Channex webhook failed at {at}: it may be missing or out of date"
    " (the log says why); the next sweep tries again"
)
NO_USER_ID = (
    "CHANNEX_USER_ID is not set: Channex's `ari` webhooks for our own pushes are taken for"
    " changes made inside Channex, and each is followed by a drift check"
)


def talks_to_channex(settings: Settings) -> bool:
    """Otherwise the channex_config check already says why, or nothing is to be said."""
    return settings.channex_sync_enabled and settings.channex_api_key is not None


def configuration_warnings(settings: Settings) -> list[ReadinessWarning]:
    """Known from the settings alone."""
    if not talks_to_channex(settings):
        return []
    warnings = []
    missing = [
        name
        for name, unset in (
            ("PUBLIC_BASE_URL", callback_url(settings) is None),
            ("CHANNEX_WEBHOOK_SECRET", settings.channex_webhook_secret is None),
        )
        if unset
    ]
    if missing:
        text = " and ".join(missing) + (" are not set" if len(missing) > 1 else " is not set")
        warnings.append(
            ReadinessWarning(code="webhook_not_registered", detail=NO_WEBHOOK.format(missing=text))
        )
    if (
        settings.environment == "production"
        and settings.ari_webhook_drift_check
        and settings.channex_user_id is None
    ):
        warnings.append(ReadinessWarning(code="channex_user_id_missing", detail=NO_USER_ID))
    return warnings


def registration_warning(settings: Settings, failed_at: datetime | None) -> list[ReadinessWarning]:
    """The last webhook check, as recorded in the database by whichever process ran it."""
    # With PUBLIC_BASE_URL or the secret unset, configuration_warnings has said it already.
    if failed_at is None or not talks_to_channex(settings) or desired_webhook(settings) is None:
        return []
    detail = CHECK_FAILED.format(at=failed_at.isoformat())
    return [ReadinessWarning(code="webhook_not_registered", detail=detail)]


def backlog_facts(backlog: Backlog, now: datetime | None = None) -> ReadinessBacklog:
    now = now or utcnow()
    return ReadinessBacklog(
        webhook_events_pending=backlog.events_pending,
        oldest_pending_webhook_event_at=backlog.oldest_event_at,
        oldest_pending_webhook_event_age_seconds=_age(now, backlog.oldest_event_at),
        deliveries_pending=backlog.deliveries_pending,
        deliveries_failed=backlog.deliveries_failed,
        oldest_undelivered_revision_at=backlog.oldest_undelivered_at,
        oldest_undelivered_revision_age_seconds=_age(now, backlog.oldest_undelivered_at),
    )


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round(max(0.0, (now - then).total_seconds()), 3)
