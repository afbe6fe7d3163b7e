"""metric_rollup counts requests beside rows (a request of n rows is one request)

Existing rows get requests = count + errors: before this revision every answered row and
every refused row was counted, so for one-row requests (what the API mostly receives)
that is the exact number of requests; a multi-row request logged before the upgrade
stays counted once per row.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metric_rollup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requests", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE metric_rollup SET requests = count + errors")


def downgrade() -> None:
    with op.batch_alter_table("metric_rollup", schema=None) as batch_op:
        batch_op.drop_column("requests")
