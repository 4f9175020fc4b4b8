"""channel state (what the PMS shows), its go-live, channel_delivery
(`channel.state_changed` pushes) and pms_endpoint.channel_events (subscribed to them)

Revision ID: 0009
Revises: 0007 (channel.full_sync_id refers to full_sync); depends on 0003 (pms_endpoint,
on the booking branch, which channel_delivery refers to)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0003"


def upgrade() -> None:
    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default="pending")
        )
        batch_op.add_column(
            sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("ever_live", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("last_event", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("removal_warning", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("hotel_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("last_sequence", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("went_live_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("full_sync_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("import_state", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("import_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("import_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("import_error", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_channel_full_sync_id_full_sync"), "full_sync", ["full_sync_id"], ["id"]
        )
    # Channels connected before this revision are live already.
    channel = sa.table("channel", sa.column("is_active"), sa.column("state"),
                       sa.column("ever_live"))  # fmt: skip
    op.execute(
        channel.update()
        .where(channel.c.is_active == sa.true())
        .values(state="live", ever_live=sa.true())
    )

    with op.batch_alter_table("pms_endpoint", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel_events", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    op.create_table(
        "channel_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channel.id"], name=op.f("fk_channel_delivery_channel_id_channel")
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["pms_endpoint.id"],
            name=op.f("fk_channel_delivery_endpoint_id_pms_endpoint"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_delivery")),
        sa.UniqueConstraint("message_id", name=op.f("uq_channel_delivery_message_id")),
        sa.UniqueConstraint(
            "channel_id",
            "endpoint_id",
            "sequence",
            name=op.f("uq_channel_delivery_channel_id_endpoint_id_sequence"),
        ),
    )
    with op.batch_alter_table("channel_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_delivery_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_channel_delivery_endpoint_id"), ["endpoint_id"], unique=False
        )
        batch_op.create_index(
            "ix_channel_delivery_due", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_delivery_due")
        batch_op.drop_index(batch_op.f("ix_channel_delivery_endpoint_id"))
        batch_op.drop_index(batch_op.f("ix_channel_delivery_channel_id"))
    op.drop_table("channel_delivery")
    with op.batch_alter_table("pms_endpoint", schema=None) as batch_op:
        batch_op.drop_column("channel_events")
    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_channel_full_sync_id_full_sync"), type_="foreignkey"
        )
        for column in ("import_error", "import_sent_at", "import_requested_at", "import_state",
                       "full_sync_id", "went_live_at", "last_sequence", "refreshed_at",
                       "hotel_id", "removal_warning", "error", "last_event", "ever_live",
                       "state_changed_at", "state"):  # fmt: skip
            batch_op.drop_column(column)
