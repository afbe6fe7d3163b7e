"""training and batch runs record when their process last reported it was alive

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("training_run", "batch_run")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("heartbeat_at", store.types.UTCDateTime(timezone=True),
                                          nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("heartbeat_at")
