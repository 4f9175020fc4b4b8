"""SQLAlchemy tables, one module per area; importing this package registers them all."""

from app.models.onboarding import (
    Channel,
    Organization,
    Property,
    RatePlan,
    RoomType,
    SyncStatus,
)

__all__ = ["Channel", "Organization", "Property", "RatePlan", "RoomType", "SyncStatus"]
