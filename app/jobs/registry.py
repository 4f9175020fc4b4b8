"""The registry: every job of the service, by the name app/jobs/requests.py gives it, with its
queue, time limit and tries. Add a line here for each new job."""

from __future__ import annotations

from app.jobs import ari, ari_watch, bookings, channels, onboarding, requests
from app.jobs.spec import (
    ARI_QUEUE,
    BOOKINGS_QUEUE,
    DEFAULT_QUEUE,
    FULL_SYNC_QUEUE,
    JobSpec,
    index_specs,
)
from app.jobs.sweep import sweep


def build_registry() -> dict[str, JobSpec]:
    """Every job of the service, keyed by name. Each job's time limit is MAX_JOB_SECONDS."""
    # arq counts a run cut short by a dead worker as a try, and drops a job past max_tries
    # without running it: jobs that never ask for a retry get CRASH_TRIES (the default), and
    # jobs that do (Retry(defer) counts as a try) get many: the sweep re-drives one that gave up.
    return index_specs(
        JobSpec(requests.SWEEP, sweep, DEFAULT_QUEUE),
        JobSpec(requests.SYNC_ONBOARDING, onboarding.sync_onboarding, DEFAULT_QUEUE),
        JobSpec(
            requests.PUSH_ARI,
            ari.push_ari,
            ARI_QUEUE,
            max_tries=100,
            after_end=ari.push_again_if_owed,
            tenant=ari.property_organization,
        ),
        JobSpec(
            requests.FULL_SYNC_ARI,
            ari.full_sync_ari,
            FULL_SYNC_QUEUE,
            max_tries=100,
            after_end=ari.push_again_if_owed,
            tenant=ari.property_organization,
        ),
        JobSpec(
            requests.NIGHTLY_ARI,
            ari.nightly_ari,
            FULL_SYNC_QUEUE,
            max_tries=12,
            tenant=ari.property_organization,
        ),
        JobSpec(
            requests.CHECK_ARI_DRIFT,
            ari_watch.check_ari_drift,
            ARI_QUEUE,
            max_tries=100,
            tenant=ari.property_organization,
        ),
        JobSpec(
            requests.PROCESS_WEBHOOK_EVENT,
            bookings.process_webhook_event,
            BOOKINGS_QUEUE,
            max_tries=8,
        ),
        JobSpec(
            requests.PROCESS_WEBHOOK_EVENTS,
            bookings.process_webhook_events,
            BOOKINGS_QUEUE,
            max_tries=8,
            after_end=bookings.process_block_again_if_pending,
        ),
        JobSpec(requests.DRAIN_INBOX, bookings.drain_inbox, BOOKINGS_QUEUE),
        JobSpec(requests.RECONCILE_BOOKINGS, bookings.reconcile_bookings, BOOKINGS_QUEUE),
        JobSpec(requests.DELIVER_BOOKING, bookings.deliver_booking, BOOKINGS_QUEUE, max_tries=50),
        # An hour of probes at the default interval; the sweep starts another after that.
        JobSpec(
            requests.PROBE_PMS_ENDPOINT, bookings.probe_pms_endpoint, BOOKINGS_QUEUE, max_tries=240
        ),
        JobSpec(
            requests.DRAIN_PMS_ENDPOINT,
            bookings.drain_pms_endpoint,
            BOOKINGS_QUEUE,
            max_tries=100,
            after_end=bookings.drain_again_if_due,
        ),
        JobSpec(
            requests.IMPORT_CHANNEL_RESERVATIONS,
            bookings.import_channel_reservations,
            DEFAULT_QUEUE,
            max_tries=5,
        ),
        JobSpec(requests.ENSURE_CHANNEX_WEBHOOK, bookings.ensure_channex_webhook, DEFAULT_QUEUE),
        JobSpec(
            requests.DELIVER_CHANNEL_STATE,
            channels.deliver_channel_state,
            BOOKINGS_QUEUE,
            max_tries=50,
        ),
        JobSpec(requests.REFRESH_CHANNELS, channels.refresh_channels, DEFAULT_QUEUE),
    )
