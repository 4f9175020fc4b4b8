"""SQLAlchemy tables, one module per area; importing this package registers them all."""

from app.models.ari import AriCell, AriChange, AriState, FullSync, SyncRun, SyncRunChange
from app.models.bookings import (
    Booking,
    BookingDelivery,
    BookingMarker,
    BookingRevision,
    ChannelDelivery,
    FeedCounter,
    PmsEndpoint,
    QuarantinedRevision,
    WebhookEvent,
)
from app.models.onboarding import (
    Channel,
    Organization,
    Property,
    RatePlan,
    RoomType,
    SyncStatus,
)

__all__ = [
    "AriCell",
    "AriChange",
    "AriState",
    "Booking",
    "BookingDelivery",
    "BookingMarker",
    "BookingRevision",
    "Channel",
    "ChannelDelivery",
    "FeedCounter",
    "FullSync",
    "Organization",
    "PmsEndpoint",
    "Property",
    "QuarantinedRevision",
    "RatePlan",
    "RoomType",
    "SyncRun",
    "SyncRunChange",
    "SyncStatus",
    "WebhookEvent",
]
