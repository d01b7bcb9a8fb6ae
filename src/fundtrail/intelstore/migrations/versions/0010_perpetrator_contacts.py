"""perpetrator contacts reported by victims (sealed, keyed index); contact conflicts

Revision ID: 0010_perpetrator_contacts
Revises: 0009_complaints_per_org
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_perpetrator_contacts"
down_revision = "0009_complaints_per_org"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_conflicts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value_index", sa.String(length=64), nullable=False),
        sa.Column("others", sa.JSON(), nullable=False),
        sa.Column("complaints", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_contact_conflicts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_conflicts")),
    )
    with op.batch_alter_table("contact_conflicts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_conflicts_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "complaint_contacts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value_enc", sa.Text(), nullable=False),
        sa.Column("value_index", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_contacts_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_contacts")),
    )
    with op.batch_alter_table("complaint_contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_contacts_complaint_id"), ["complaint_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaint_contacts_value_index"), ["value_index"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("complaint_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_contacts_value_index"))
        batch_op.drop_index(batch_op.f("ix_complaint_contacts_complaint_id"))

    op.drop_table("complaint_contacts")
    with op.batch_alter_table("contact_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_conflicts_campaign_id"))

    op.drop_table("contact_conflicts")
