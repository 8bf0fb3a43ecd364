"""issue webhook changes

Revision ID: a7d3e9f1c285
Revises: e4b7c1d9a2f3
Create Date: 2026-12-07 00:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d3e9f1c285'
down_revision = 'e4b7c1d9a2f3'
branch_labels = None
depends_on = None


def upgrade():
    # Issue ids Jira's webhooks named (deleted or changed), per tenant, until an incremental issue pass consumes them;
    # one delivery identifier records once (Jira retries with the same X-Atlassian-Webhook-Identifier).
    op.create_table(
        'issue_webhook_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('identifier', sa.String(length=128), nullable=False),
        sa.Column('event', sa.String(length=64), nullable=False),
        sa.Column('issue_id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('consumed_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'identifier', 'issue_id'),
    )
    with op.batch_alter_table('issue_webhook_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_webhook_changes_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('issue_webhook_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_webhook_changes_tenant_id'))
    op.drop_table('issue_webhook_changes')
