"""quota ledger and job points

Revision ID: e4b7c1d9a2f3
Revises: 9b7e4c2a1d05
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b7c1d9a2f3'
down_revision = '9b7e4c2a1d05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quota_ledger',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('learned_limit', sa.Integer(), nullable=True),
    sa.Column('learned_window', sa.Integer(), nullable=True),
    sa.Column('urgent_priority', sa.Integer(), nullable=True),
    sa.Column('urgent_until', sa.Float(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points_json', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('points_json')
    op.drop_table('quota_ledger')
