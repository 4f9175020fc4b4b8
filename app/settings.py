"""Service configuration, read from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

CHANNEX_STAGING_URL = "https://staging.channex.io/api/v1"
CHANNEX_PRODUCTION_URL = "https://app.channex.io/api/v1"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./channel-sync.db"


class ApiKey(BaseModel):
    """One API key of the service: global when `organization_id` is None, else scoped to it."""

    name: str
    key: SecretStr
    organization_id: str | None = None
    # May log in to the operator console (/console); global keys only.
    operator: bool = False

    @model_validator(mode="after")
    def _operator_is_global(self) -> ApiKey:
        if self.operator and self.organization_id is not None:
            raise ValueError("an operator key must be global (no organization_id)")
        return self


class Settings(BaseSettings):
    """Every variable the service reads; secrets are `SecretStr` so they never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    # Connections kept open per process, and how many more a burst may open (then closed).
    database_pool_size: int = Field(default=5, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    redis_url: str | None = None
    # Prefix of every key kept in Redis (queues, job ids, limiter, health), so that several
    # deployments can share one Redis server; no ':' inside (see app/jobs/namespace.py).
    redis_namespace: str = Field(
        default="channel-sync", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"
    )

    channex_api_url: str = CHANNEX_STAGING_URL
    # Channex's web app, the `server` of the channel iframe's URL (channex-api.md §9.4);
    # unset, CHANNEX_API_URL without its `/api/v1` (`channex_app_base_url`).
    channex_app_url: str | None = None
    channex_api_key: SecretStr | None = None
    channex_webhook_secret: SecretStr | None = None
    # Channex allows 10 (channex-api.md §6.5); tests allow thousands, so that the limiter's
    # spacing takes milliseconds instead of seconds.
    channex_rate_limit_per_minute: int = Field(default=10, ge=1, le=60_000)
    # Stretches that spacing (0.05: 6.3 s instead of 6 s), so that network jitter never puts
    # an eleventh request into one of Channex's rolling minutes (app/channex/ratelimit.py).
    channex_rate_limit_margin: float = Field(default=0.05, ge=0, le=1)
    # Account-wide ceilings shared by all tenants of the master key (channex-api.md §6.5).
    channex_global_limit_per_minute: int = Field(default=600, ge=1)
    channex_global_limit_per_hour: int = Field(default=18_000, ge=1)
    # The part of those account-wide budgets one organization's ARI pushes may use: the rest
    # is always free for the others, so that their changes never wait behind its full syncs
    # (benchmarks/tenant_fairness.py). 1 turns it off.
    channex_tenant_share: float = Field(default=0.8, gt=0, le=1)
    channex_timeout_seconds: float = Field(default=30.0, gt=0)
    channex_max_attempts: int = Field(default=4, ge=1, le=10)
    channex_sync_enabled: bool = True
    # The Channex account is white-label: the PMS may create and activate channels itself
    # through the Channel API (POST /v1/properties/{id}/channels), without the iframe. Off
    # by default: other accounts get Channex's refusal, so we refuse first (403).
    channex_white_label: bool = False
    channex_log_level: str = "INFO"

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    # JSON list: [{"name": "pms", "key": "...", "organization_id": null}, ...]
    api_keys: list[ApiKey] = Field(default_factory=list)

    # Signs the console's session cookies; unset, a random secret per process (sessions then
    # end with a restart and do not carry over between replicas).
    console_secret: SecretStr | None = None

    sweep_interval_seconds: float = Field(default=60.0, gt=0)

    # 0: a change after a quiet spell goes out at once (the leading edge); changes made while
    # the next rate-limit slot is awaited ride along in it, so a burst stays one push per slot.
    # A positive value holds the first push of a quiet spell this long, for a PMS that sends
    # one edit as several quick batches: they then share one request, at this much latency.
    ari_push_debounce_seconds: float = Field(default=0.0, ge=0)

    # --- ARI nightly work (issue 4), off-peak in each property's timezone, spread across them ---
    # Read Channex back and compare with what we pushed; repair the differing cells too if set.
    ari_nightly_drift_check: bool = True
    ari_nightly_drift_repair: bool = False
    # A scheduled full sync, at most once a day per property (Channex discourages timed full
    # syncs, channex-api.md §6.7): off unless asked for.
    ari_daily_full_sync: bool = False
    # Channex's `ari` webhook marks the dates it names for a drift check, run this long after
    # the first event so a burst becomes one check; repaired as ari_nightly_drift_repair says.
    ari_webhook_drift_check: bool = True
    ari_webhook_drift_delay_seconds: float = Field(default=30.0, ge=0)
    # The Channex user behind CHANNEX_API_KEY: `ari` events it caused are our own pushes, not
    # changes made inside Channex (channex-api.md §8.3). Unset: every user's event is checked.
    channex_user_id: str | None = None

    # --- bookings (issue 5) ---
    # Base of the callback URL registered in Channex: PUBLIC_BASE_URL + /v1/webhooks/channex.
    public_base_url: str | None = None
    # Checked after the secret, so only Channex can send this much: an `ari` event lists every
    # cell a push changed, and one for a 500-day full sync runs to megabytes (§8.3).
    webhook_max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    # Every other request body is refused (413) past this, while it streams. The default holds
    # the largest valid request, an ARI batch of 1,000 items of every field at its longest,
    # as compact or as Python's default JSON (2.4-2.7 MB; tests/api/test_request_guard.py), and
    # keeps four such bodies at once well under 20 MiB.
    api_max_body_bytes: int = Field(default=3 * 1024 * 1024, ge=1024)
    # Failed authentications (API key or webhook secret) one address may make in a minute;
    # past it the address is answered 429 until the minute has passed.
    auth_failures_per_minute: int = Field(default=20, ge=1)
    # One `app.access` line per request (method, route, status, duration, request id).
    access_log: bool = True
    # `channel-sync worker` serves its own counters (jobs, Channex requests, deliveries) at
    # http://<host>:<port>/metrics when set; the API's /metrics has the backlogs.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # One Channex account serves every organization: may an organization's own key adopt an
    # existing Channex group (one no other organization maps)? Global keys always may.
    allow_scoped_group_adoption: bool = False
    # Entities one organization may create (checked before any call to Channex: 409
    # quota_exceeded). Channex's own limits are per property: 20 room types and 200 rate plans
    # for a hotel (channex-api.md §4, §5, §11).
    quota_properties_per_organization: int = Field(default=100, ge=1)
    quota_room_types_per_property: int = Field(default=20, ge=1)
    quota_rate_plans_per_room_type: int = Field(default=30, ge=1)
    # Reading Channex's feed of unacknowledged revisions: at most this often (§7.3, §7.4).
    booking_reconcile_interval_seconds: float = Field(default=90.0, gt=0)
    # Fernet keys: the first encrypts, all decrypt (rotation). Required in production; in
    # development, unset, a key is generated once into DATA_DIR (app/services/personal_data.py).
    personal_data_keys: list[SecretStr] = Field(default_factory=list)
    # Files the service keeps beside its database: the development personal-data key. The
    # working directory by default, like the SQLite default (/data in the Docker image).
    data_dir: Path = Path()
    # The global PMS endpoint; an organization's own endpoint (API) takes precedence.
    pms_delivery_url: str | None = None
    pms_delivery_secret: SecretStr | None = None
    pms_delivery_timeout_seconds: float = Field(default=10.0, gt=0)
    # While an endpoint fails, its oldest pending delivery is sent this often, whatever its
    # own retry schedule says: 15 s is 4 attempts a minute, and a recovered PMS gets its
    # backlog within seconds instead of at the next scheduled retry (minutes to hours later).
    pms_probe_interval_seconds: float = Field(default=15.0, gt=0)
    # Lets callback URLs resolve to loopback/private addresses (local development, tests).
    allow_private_callbacks: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def channex_app_base_url(self) -> str:
        """Where the hotel's browser opens Channex's pages: CHANNEX_APP_URL, else the API's
        host (the web app and the API share it: staging.channex.io, app.channex.io, and a
        sandbox's root, whose pages sit beside its `/api/v1`)."""
        if self.channex_app_url:
            return self.channex_app_url.rstrip("/")
        return self.channex_api_url.rstrip("/").removesuffix("/api/v1")


@lru_cache
def get_settings() -> Settings:
    """Settings of this process, built on first use (never at import)."""
    return Settings()
