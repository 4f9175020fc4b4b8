"""booking_delivery: an index on (endpoint_id, booking_id, sequence) for the next delivery of
each booking, in place of the index on endpoint_id alone

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("booking_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_booking_delivery_endpoint_booking",
            ["endpoint_id", "booking_id", "sequence"],
            unique=False,
        )
        batch_op.drop_index("ix_booking_delivery_endpoint_id")


def downgrade() -> None:
    with op.batch_alter_table("booking_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_booking_delivery_endpoint_id", ["endpoint_id"], unique=False)
        batch_op.drop_index("ix_booking_delivery_endpoint_booking")
