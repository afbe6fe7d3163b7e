"""serving: deployments, prediction log, rollups, quarantine, batch runs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 07:21:43.627686
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batch_run',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sink', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_scored', sa.Integer(), nullable=False),
    sa.Column('rows_quarantined', sa.Integer(), nullable=False),
    sa.Column('chunks', sa.Integer(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('started_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['registered_model.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['model_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batch_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_run_model_id'), ['model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_run_started_at'), ['started_at'], unique=False)

    op.create_table('deployment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('challenger_version_id', sa.Integer(), nullable=True),
    sa.Column('challenger_share', sa.Float(), nullable=False),
    sa.Column('log_mode', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('input_sample_rate', sa.Float(), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['challenger_version_id'], ['model_version.id'], ),
    sa.ForeignKeyConstraint(['model_id'], ['registered_model.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('model_id')
    )
    op.create_table('metric_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('route', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('minute', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('latency_sum_ms', sa.Float(), nullable=False),
    sa.Column('latency_max_ms', sa.Float(), nullable=False),
    sa.Column('out_count', sa.Integer(), nullable=False),
    sa.Column('out_sum', sa.Float(), nullable=False),
    sa.Column('out_sumsq', sa.Float(), nullable=False),
    sa.Column('out_min', sa.Float(), nullable=True),
    sa.Column('out_max', sa.Float(), nullable=True),
    sa.Column('lat_b00', sa.Integer(), nullable=False),
    sa.Column('lat_b01', sa.Integer(), nullable=False),
    sa.Column('lat_b02', sa.Integer(), nullable=False),
    sa.Column('lat_b03', sa.Integer(), nullable=False),
    sa.Column('lat_b04', sa.Integer(), nullable=False),
    sa.Column('lat_b05', sa.Integer(), nullable=False),
    sa.Column('lat_b06', sa.Integer(), nullable=False),
    sa.Column('lat_b07', sa.Integer(), nullable=False),
    sa.Column('lat_b08', sa.Integer(), nullable=False),
    sa.Column('lat_b09', sa.Integer(), nullable=False),
    sa.Column('lat_b10', sa.Integer(), nullable=False),
    sa.Column('lat_b11', sa.Integer(), nullable=False),
    sa.Column('lat_b12', sa.Integer(), nullable=False),
    sa.Column('lat_b13', sa.Integer(), nullable=False),
    sa.Column('lat_b14', sa.Integer(), nullable=False),
    sa.Column('lat_b15', sa.Integer(), nullable=False),
    sa.Column('lat_b16', sa.Integer(), nullable=False),
    sa.Column('lat_b17', sa.Integer(), nullable=False),
    sa.Column('lat_b18', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['registered_model.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['model_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version_id', 'route', 'minute', name='uq_rollup_version_route_minute')
    )
    with op.batch_alter_table('metric_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_model_minute', ['model_id', 'minute'], unique=False)

    op.create_table('prediction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prediction_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('route', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('row_index', sa.Integer(), nullable=False),
    sa.Column('batch_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('inputs', sa.Text(), nullable=True),
    sa.Column('outputs', sa.Text(), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('label_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_run_id'], ['batch_run.id'], ),
    sa.ForeignKeyConstraint(['model_id'], ['registered_model.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['model_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prediction_id')
    )
    with op.batch_alter_table('prediction', schema=None) as batch_op:
        batch_op.create_index('ix_prediction_model_at', ['model_id', 'at'], unique=False)
        batch_op.create_index('uq_prediction_batch_row', ['batch_run_id', 'row_index'], unique=True)
        batch_op.create_index('uq_prediction_request', ['model_id', 'request_id', 'route', 'row_index'], unique=True)

    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('route', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('batch_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('row_index', sa.Integer(), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['batch_run_id'], ['batch_run.id'], ),
    sa.ForeignKeyConstraint(['model_id'], ['registered_model.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['model_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index('ix_quarantine_batch_row', ['batch_run_id', 'row_index'], unique=False)
        batch_op.create_index('ix_quarantine_model_at', ['model_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index('ix_quarantine_model_at')
        batch_op.drop_index('ix_quarantine_batch_row')

    op.drop_table('quarantine')
    with op.batch_alter_table('prediction', schema=None) as batch_op:
        batch_op.drop_index('uq_prediction_request')
        batch_op.drop_index('uq_prediction_batch_row')
        batch_op.drop_index('ix_prediction_model_at')

    op.drop_table('prediction')
    with op.batch_alter_table('metric_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_rollup_model_minute')

    op.drop_table('metric_rollup')
    op.drop_table('deployment')
    with op.batch_alter_table('batch_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_run_started_at'))
        batch_op.drop_index(batch_op.f('ix_batch_run_model_id'))

    op.drop_table('batch_run')
