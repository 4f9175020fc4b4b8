"""Typed async client of the channel-sync API, for the PMS side.

    async with ChannelSyncClient("https://sync.example.com", api_key) as client:
        await client.put_organization("org-1", OrganizationPut(title="Seaside Hotels"))

`models` holds the request and answer types, generated from the service's openapi.json.
"""

from channel_sync_client import models
from channel_sync_client.client import ChannelSyncClient
from channel_sync_client.errors import (
    ChannelSyncError,
    ChannexError,
    ChannexRateLimitedError,
    ChannexRejectedError,
    ChannexUnavailableError,
    ClientError,
    ConflictError,
    FieldProblem,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    Problem,
    RateLimitedError,
    ServerError,
    ServiceUnavailableError,
    UnauthorizedError,
    ValidationFailedError,
)
from channel_sync_client.webhooks import (
    ChannelStateDelivery,
    RevisionDelivery,
    SignatureVerificationError,
    delivery_type,
    verify_channel_delivery,
    verify_delivery,
)

__all__ = [
    "ChannelStateDelivery",
    "ChannelSyncClient",
    "ChannelSyncError",
    "ChannexError",
    "ChannexRateLimitedError",
    "ChannexRejectedError",
    "ChannexUnavailableError",
    "ClientError",
    "ConflictError",
    "FieldProblem",
    "ForbiddenError",
    "NotFoundError",
    "PayloadTooLargeError",
    "Problem",
    "RateLimitedError",
    "RevisionDelivery",
    "ServerError",
    "ServiceUnavailableError",
    "SignatureVerificationError",
    "UnauthorizedError",
    "ValidationFailedError",
    "delivery_type",
    "models",
    "verify_channel_delivery",
    "verify_delivery",
]
