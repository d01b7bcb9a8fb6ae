"""intel change journal (screening follows intel changes at once)

Revision ID: 0005_screening_intel_changes
Revises: 0004_taxii
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_screening_intel_changes"
down_revision = "0004_taxii"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intel_changes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_intel_changes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("intel_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_changes_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("intel_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_changes_at"))
    op.drop_table("intel_changes")
