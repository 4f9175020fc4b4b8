"""full_sync (a followable full sync), sync_run.full_sync_id, ari_cell.change_id and
sync_run_change: which PMS changes each sync run carried

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "full_sync",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["property_id"], ["property.id"], name=op.f("fk_full_sync_property_id_property")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_full_sync")),
    )
    with op.batch_alter_table("full_sync", schema=None) as batch_op:
        batch_op.create_index("ix_full_sync_property_state", ["property_id", "state"], unique=False)

    op.create_table(
        "sync_run_change",
        sa.Column("change_id", sa.String(length=32), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["ari_change.id"], name=op.f("fk_sync_run_change_change_id_ari_change")
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_run.id"], name=op.f("fk_sync_run_change_sync_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("change_id", "sync_run_id", name=op.f("pk_sync_run_change")),
    )
    with op.batch_alter_table("ari_cell", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_ari_cell_change_id"), ["change_id"], unique=False)

    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("full_sync_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_sync_run_full_sync_id"), ["full_sync_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_sync_run_full_sync_id_full_sync"), "full_sync", ["full_sync_id"], ["id"]
        )


def downgrade() -> None:

    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sync_run_full_sync_id_full_sync"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_sync_run_full_sync_id"))
        batch_op.drop_column("full_sync_id")

    with op.batch_alter_table("ari_cell", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ari_cell_change_id"))
        batch_op.drop_column("change_id")

    op.drop_table("sync_run_change")
    with op.batch_alter_table("full_sync", schema=None) as batch_op:
        batch_op.drop_index("ix_full_sync_property_state")

    op.drop_table("full_sync")
