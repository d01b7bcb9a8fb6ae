"""deposit conflicts: customer deposit addresses two campaigns reached, not merged

Revision ID: 0011_deposit_conflicts
Revises: 0010_perpetrator_contacts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_deposit_conflicts"
down_revision = "0010_perpetrator_contacts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deposit_conflicts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("deposit", sa.String(length=140), nullable=False),
        sa.Column("others", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_deposit_conflicts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_conflicts")),
    )
    with op.batch_alter_table("deposit_conflicts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deposit_conflicts_campaign_id"), ["campaign_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deposit_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deposit_conflicts_campaign_id"))

    op.drop_table("deposit_conflicts")
