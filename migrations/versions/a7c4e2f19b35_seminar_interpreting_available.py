"""seminars.interpreting_available: the office can arrange interpreting for a seminar

Revision ID: a7c4e2f19b35
Revises: 9f3c1e7a2b60
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c4e2f19b35'
down_revision = '9f3c1e7a2b60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('seminars', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interpreting_available', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('seminars', schema=None) as batch_op:
        batch_op.drop_column('interpreting_available')
