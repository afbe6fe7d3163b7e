"""monitoring: reference profiles, drift / quality / performance reports, labelling queue

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('label_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('prediction_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('window_start', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('done_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['model_id'], ['registered_model.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prediction_id')
    )
    with op.batch_alter_table('label_task', schema=None) as batch_op:
        batch_op.create_index('ix_label_task_model_status', ['model_id', 'status', 'id'], unique=False)

    op.create_table('performance_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('window_start', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('task', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('predictions', sa.Integer(), nullable=False),
    sa.Column('labelled', sa.Integer(), nullable=False),
    sa.Column('coverage', sa.Float(), nullable=False),
    sa.Column('realised', sa.JSON(), nullable=True),
    sa.Column('estimated', sa.JSON(), nullable=True),
    sa.Column('training', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['registered_model.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['model_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('performance_report', schema=None) as batch_op:
        batch_op.create_index('ix_performance_report_model_end', ['model_id', 'window_end'], unique=False)

    op.create_table('quality_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('window_start', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('quarantined', sa.Integer(), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['registered_model.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['model_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('quality_report', schema=None) as batch_op:
        batch_op.create_index('ix_quality_report_model_end', ['model_id', 'window_end'], unique=False)

    op.create_table('reference_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['registered_model.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['model_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reference_profile', schema=None) as batch_op:
        batch_op.create_index('ix_reference_profile_version', ['version_id', 'id'], unique=False)

    op.create_table('drift_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('profile_id', sa.Integer(), nullable=True),
    sa.Column('window_start', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('features', sa.Integer(), nullable=False),
    sa.Column('drifted', sa.Integer(), nullable=False),
    sa.Column('drift_share', sa.Float(), nullable=True),
    sa.Column('domain_auc', sa.Float(), nullable=True),
    sa.Column('domain', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['registered_model.id'], ),
    sa.ForeignKeyConstraint(['profile_id'], ['reference_profile.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['model_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('drift_report', schema=None) as batch_op:
        batch_op.create_index('ix_drift_report_model_end', ['model_id', 'window_end'], unique=False)

    op.create_table('drift_feature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('feature', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('test', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('statistic', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('effect_size', sa.Float(), nullable=True),
    sa.Column('n_reference', sa.Integer(), nullable=False),
    sa.Column('n_current', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['drift_report.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('drift_feature', schema=None) as batch_op:
        batch_op.create_index('ix_drift_feature_report', ['report_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('drift_feature', schema=None) as batch_op:
        batch_op.drop_index('ix_drift_feature_report')

    op.drop_table('drift_feature')
    with op.batch_alter_table('drift_report', schema=None) as batch_op:
        batch_op.drop_index('ix_drift_report_model_end')

    op.drop_table('drift_report')
    with op.batch_alter_table('reference_profile', schema=None) as batch_op:
        batch_op.drop_index('ix_reference_profile_version')

    op.drop_table('reference_profile')
    with op.batch_alter_table('quality_report', schema=None) as batch_op:
        batch_op.drop_index('ix_quality_report_model_end')

    op.drop_table('quality_report')
    with op.batch_alter_table('performance_report', schema=None) as batch_op:
        batch_op.drop_index('ix_performance_report_model_end')

    op.drop_table('performance_report')
    with op.batch_alter_table('label_task', schema=None) as batch_op:
        batch_op.drop_index('ix_label_task_model_status')

    op.drop_table('label_task')
