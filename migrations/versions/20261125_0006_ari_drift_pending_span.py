"""ari_state.drift_pending_*: dates named by Channex's `ari` webhook, still to check

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ari_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drift_pending_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("drift_pending_to", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("drift_pending_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("ari_state", schema=None) as batch_op:
        batch_op.drop_column("drift_pending_at")
        batch_op.drop_column("drift_pending_to")
        batch_op.drop_column("drift_pending_from")
