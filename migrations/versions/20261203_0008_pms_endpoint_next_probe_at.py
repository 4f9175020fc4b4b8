"""pms_endpoint.next_probe_at, booking_delivery.lease_until: probes and one sender at a time

Revision ID: 0008
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pms_endpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_probe_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("booking_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("booking_delivery", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
    with op.batch_alter_table("pms_endpoint", schema=None) as batch_op:
        batch_op.drop_column("next_probe_at")
