"""ari nightly: when the off-peak work last ran and what the last drift check found

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25 11:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ari_state") as batch:
        batch.add_column(sa.Column("nightly_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("drift_checked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("drift_differences", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ari_state") as batch:
        batch.drop_column("drift_differences")
        batch.drop_column("drift_checked_at")
        batch.drop_column("nightly_at")
