"""Settings of one Channex sandbox instance."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SandboxConfig(BaseModel):
    """What a sandbox is built with; faults are set later at run time (`PUT /sandbox/faults`)."""

    api_key: str = "sandbox-key"
    # 1.0 = real time. Scales the non_acked_booking delay, the webhook retry schedule and the
    # rate-limit window, so a test can let "30 minutes" pass in a second or two.
    time_scale: float = Field(default=1.0, gt=0)
    # Per property, per ARI write endpoint, rolling minute (channex-api.md §6.5).
    rate_limit_per_minute: int = Field(default=10, ge=1)
    seed: int | None = None
    # Inventory horizon given to new properties unless they set their own (§3).
    state_length: int = Field(default=500, ge=100, le=730)
    # Seconds before an unacknowledged revision raises `non_acked_booking` (§7.4), before scaling.
    non_acked_after_seconds: float = Field(default=30 * 60, gt=0)
    # Timeout of one webhook POST made by the sandbox, in real seconds.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Webhook POSTs in flight at once; the rest wait their turn, as behind Channex's senders.
    webhook_concurrency: int = Field(default=10, ge=1)
    # How long a request "times out" under the timeout fault, in real seconds.
    timeout_hang_seconds: float = Field(default=30.0, gt=0)
