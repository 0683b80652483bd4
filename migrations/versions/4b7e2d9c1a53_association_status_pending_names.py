"""association status: names typed by the public wait for review

Revision ID: 4b7e2d9c1a53
Revises: d7e2a9c4b1f0
Create Date: 2026-12-01 10:00:00.000000

Every association that exists already stays in the public list (accepted): until now every name
was public, and taking one away would change the forms under the people who use it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b7e2d9c1a53'
down_revision = 'd7e2a9c4b1f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('associations', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'status', sa.Enum('accepted', 'pending', name='association_status', native_enum=False, length=20),
            server_default='accepted', nullable=False))
        batch_op.create_index(batch_op.f('ix_associations_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('associations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_associations_status'))
        batch_op.drop_column('status')
