"""saved money-flow graphs of campaigns; imported market prices

Revision ID: 0006_canvas_graphs_prices
Revises: 0005_screening_intel_changes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_canvas_graphs_prices"
down_revision = "0005_screening_intel_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_graphs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_graphs_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_campaign_graphs_org_id_orgs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_graphs")),
    )
    with op.batch_alter_table("campaign_graphs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_graphs_campaign_id"), ["campaign_id"], unique=False
        )
    op.create_table(
        "prices",
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "currency", "interval", "ts", name=op.f("pk_prices")),
    )


def downgrade() -> None:
    op.drop_table("prices")
    with op.batch_alter_table("campaign_graphs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_graphs_campaign_id"))
    op.drop_table("campaign_graphs")
