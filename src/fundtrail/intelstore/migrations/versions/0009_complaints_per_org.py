"""complaints unique per organisation; complaints accepted into a case

Revision ID: 0009_complaints_per_org
Revises: 0008_web_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_complaints_per_org"
down_revision = "0008_web_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_constraint("uq_complaints_chain_txid_vout", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_complaints_org_id_chain_txid_vout"), ["org_id", "chain", "txid", "vout"]
        )
    op.create_table(
        "case_complaints",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"],
            name=op.f("fk_case_complaints_case_id_cases"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"],
            name=op.f("fk_case_complaints_complaint_id_complaints"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "complaint_id", name=op.f("pk_case_complaints")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_case_complaints_complaint_id"), "case_complaints", ["complaint_id"], unique=False
    )
    # the cases opened before: what they showed stays accepted (every current member)
    op.execute(
        "INSERT INTO case_complaints (case_id, complaint_id, created) "
        "SELECT cases.id, complaints.id, cases.created FROM cases "
        "JOIN complaints ON complaints.campaign_id = cases.campaign_id"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_case_complaints_complaint_id"), table_name="case_complaints")
    op.drop_table("case_complaints")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_constraint("uq_complaints_org_id_chain_txid_vout", type_="unique")
        batch_op.create_unique_constraint(
            "uq_complaints_chain_txid_vout", ["chain", "txid", "vout"]
        )
