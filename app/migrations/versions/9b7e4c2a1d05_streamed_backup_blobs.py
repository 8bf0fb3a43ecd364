"""streamed backup blobs: tenant keys, blob metadata, database chunks, snapshot references

Large content (attachments) is stored by stream, sealed chunk by chunk under a per-tenant key, once per tenant
however many snapshots hold it. The objects live in the configured backend (these chunk rows for the database
one); the digest → object map and which snapshots hold which blob live here.

Revision ID: 9b7e4c2a1d05
Revises: 5d2e8b1f0c47
Create Date: 2026-12-09 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9b7e4c2a1d05'
down_revision = '5d2e8b1f0c47'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'backup_tenant_keys',
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('key_enc', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id'),
    )
    op.create_table(
        'backup_stream_blobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('stored_size', sa.BigInteger(), nullable=False),
        sa.Column('chunk_size', sa.Integer(), nullable=False),
        sa.Column('chunk_count', sa.BigInteger(), nullable=False),
        sa.Column('salt', sa.String(length=32), nullable=False),
        sa.Column('object_name', sa.String(length=64), nullable=False),
        sa.Column('backend', sa.String(length=8), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('object_name'),
        sa.UniqueConstraint('tenant_id', 'sha256'),
    )
    op.create_table(
        'backup_stream_chunks',
        sa.Column('object_name', sa.String(length=64), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('object_name', 'seq'),
    )
    with op.batch_alter_table('backup_stream_chunks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_stream_chunks_tenant_id'), ['tenant_id'], unique=False)
    op.create_table(
        'backup_snapshot_stream_blobs',
        sa.Column('snapshot_id', sa.Integer(), nullable=False),
        sa.Column('blob_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['blob_id'], ['backup_stream_blobs.id']),
        sa.ForeignKeyConstraint(['snapshot_id'], ['backup_snapshots.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('snapshot_id', 'blob_id'),
    )
    with op.batch_alter_table('backup_snapshot_stream_blobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_snapshot_stream_blobs_blob_id'), ['blob_id'], unique=False)


def downgrade():
    with op.batch_alter_table('backup_snapshot_stream_blobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_snapshot_stream_blobs_blob_id'))
    op.drop_table('backup_snapshot_stream_blobs')
    with op.batch_alter_table('backup_stream_chunks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_stream_chunks_tenant_id'))
    op.drop_table('backup_stream_chunks')
    op.drop_table('backup_stream_blobs')
    op.drop_table('backup_tenant_keys')
