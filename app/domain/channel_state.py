"""A channel's connection state, pure: what the PMS can show without knowing Channex.

Channex has no status field on a channel, only `is_active` (channex-api.md §9.2); the rest is
learnt from its channel webhooks (§8.2): `sync_error` (the OTA refused something) and
`channel_removal_warning` (a disabled channel is deleted after a month, §9.2). These facts are
kept on the channel row; the state is derived from them, never stored apart from them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class ChannelState(StrEnum):
    PENDING = "pending"  # created in Channex, never active yet
    LIVE = "live"  # is_active: connected and selling
    DISCONNECTED = "disconnected"  # was live, is not any more
    ERROR = "error"  # the OTA reported a sync_error since the channel last changed
    REMOVAL_WARNING = "removal_warning"  # inactive, and Channex said it will delete it


UP_EVENTS = frozenset({"activate_channel"})
DOWN_EVENTS = frozenset({"deactivate_channel", "disconnect_channel", "disconnected_channel"})
SYNC_ERROR_EVENT = "sync_error"
REMOVAL_WARNING_EVENT = "channel_removal_warning"
# Events that say the channel itself changed: an error reported before is then history.
CHANGE_EVENTS = UP_EVENTS | DOWN_EVENTS | {"new_channel", "updated_channel"}
STATE_EVENTS = CHANGE_EVENTS | {SYNC_ERROR_EVENT, REMOVAL_WARNING_EVENT}


@dataclass(frozen=True)
class ChannelFacts:
    """What Channex reported of one channel."""

    is_active: bool = False
    ever_live: bool = False
    last_event: str | None = None
    error: str | None = None  # the last sync_error, until the channel changes again
    removal_warning: bool = False


def channel_state(facts: ChannelFacts) -> ChannelState:
    """The state to show. A removal warning only stands while the channel is inactive (an
    active channel is not deleted); an error wins over live because the hotel must act."""
    if facts.removal_warning and not facts.is_active:
        return ChannelState.REMOVAL_WARNING
    if facts.error is not None:
        return ChannelState.ERROR
    if facts.is_active:
        return ChannelState.LIVE
    return ChannelState.DISCONNECTED if facts.ever_live else ChannelState.PENDING


def apply_event(facts: ChannelFacts, event: str, error: str | None = None) -> ChannelFacts:
    """The facts after one channel webhook. A sync_error carries no "resolved" twin in
    Channex: it stands until the channel next changes (activated, deactivated, edited)."""
    if event == SYNC_ERROR_EVENT:
        return replace(facts, last_event=event, error=error or "the OTA reported a sync error")
    if event == REMOVAL_WARNING_EVENT:
        return replace(facts, last_event=event, removal_warning=True)
    if event not in CHANGE_EVENTS:
        return facts
    active = True if event in UP_EVENTS else False if event in DOWN_EVENTS else facts.is_active
    return observe(replace(facts, last_event=event, error=None), active)


def observe(facts: ChannelFacts, is_active: bool) -> ChannelFacts:
    """The facts once `is_active` is known (an event, or a read of the channel)."""
    return replace(
        facts,
        is_active=is_active,
        ever_live=facts.ever_live or is_active,
        removal_warning=facts.removal_warning and not is_active,
    )


def sync_error_text(payload: dict[str, object]) -> str:
    """The sync_error payload (§8.3: channel_name, error_type...) as one line."""
    kind = payload.get("error_type")
    name = payload.get("channel_name")
    text = f"{kind}" if isinstance(kind, str) and kind else "sync error"
    return (f"{name}: {text}" if isinstance(name, str) and name else text)[:500]
