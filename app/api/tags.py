"""The OpenAPI tags of the routers, each described for the reader of the API reference.

Listed in the order the reference shows them: onboarding first, then ARI and bookings, the
Channex-facing intake and the probes last.
"""

from __future__ import annotations

from typing import Any

TAGS: list[dict[str, Any]] = [
    {
        "name": "organizations",
        "description": "A PMS organization (a hotel group or owner): one Channex group each. "
        "Create it first; its properties live inside that group.",
    },
    {
        "name": "properties",
        "description": "Hotels of an organization: one Channex property each, with its "
        "currency, time zone and address. Disconnecting one stops its syncing.",
    },
    {
        "name": "mappings",
        "description": "Room types and rate plans of a property, created in Channex or adopted "
        "from it, and the mapping between the PMS's ids and Channex's.",
    },
    {
        "name": "channex",
        "description": "What Channex holds for a property right now: its room types, rate plans "
        "and OTA channels, and a check of the mappings against them.",
    },
    {
        "name": "channels",
        "description": "The hotel connects an OTA itself: a one-time session URL of "
        "Channex's channel iframe, where it picks the OTA and maps its rooms.",
    },
    {
        "name": "ari",
        "description": "Availability, rates and restrictions: the PMS states what it wants per "
        "date, channel-sync pushes it to Channex in the background and records every push; "
        "drift checks compare Channex's values with what was pushed.",
    },
    {
        "name": "bookings",
        "description": "Booking revisions from Channex for the PMS: pushed to its endpoint "
        "(signed) or pulled from a feed, acknowledged, replayed; and what needs a human.",
    },
    {
        "name": "webhooks",
        "description": "Intake of Channex's webhooks, authenticated by a shared secret header "
        "rather than an API key. Called by Channex, not by the PMS.",
    },
    {
        "name": "health",
        "description": "Liveness and readiness probes for load balancers and orchestrators; no "
        "authentication.",
    },
]
