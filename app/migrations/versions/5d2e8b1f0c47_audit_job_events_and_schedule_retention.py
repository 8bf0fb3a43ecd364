"""audit log job events and per-site schedule retention

The audit log grows from connection actions to every action (backups, restores, authorisations, schedule changes):
an entry recorded for a job (a backup, a preview, a restore) names it, once per event, so recording it again from
the jobs table is harmless. A site's retention (daily and weekly snapshots kept) becomes its own setting beside its
interval; NULL keeps following BACKUP_RETENTION_DAILY / BACKUP_RETENTION_WEEKLY.

Revision ID: 5d2e8b1f0c47
Revises: c3a91f7d2b64
Create Date: 2026-12-08 09:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5d2e8b1f0c47'
down_revision = 'c3a91f7d2b64'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('recovery_audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.String(length=36), nullable=True))
        batch_op.create_unique_constraint('uq_recovery_audit_job_action', ['job_id', 'action'])
    with op.batch_alter_table('backup_schedules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_daily', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('retention_weekly', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('backup_schedules', schema=None) as batch_op:
        batch_op.drop_column('retention_weekly')
        batch_op.drop_column('retention_daily')
    with op.batch_alter_table('recovery_audit_log', schema=None) as batch_op:
        batch_op.drop_constraint('uq_recovery_audit_job_action', type_='unique')
        batch_op.drop_column('job_id')
