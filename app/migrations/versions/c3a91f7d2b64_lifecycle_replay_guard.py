"""lifecycle replay guard

Revision ID: c3a91f7d2b64
Revises: 7fc4a5e02582
Create Date: 2026-12-06 10:12:41.503118

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a91f7d2b64'
down_revision = '7fc4a5e02582'
branch_labels = None
depends_on = None


def upgrade():
    # The last accepted signed lifecycle event per tenant (iat and hashes only): replays are refused against it.
    # Existing tenants start with NULLs: their next genuine event is accepted and recorded.
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lifecycle_iat', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('lifecycle_token_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('lifecycle_body_sha256', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('lifecycle_body_sha256')
        batch_op.drop_column('lifecycle_token_sha256')
        batch_op.drop_column('lifecycle_iat')
