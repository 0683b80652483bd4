"""a seminar's version (two coordinators' saves cannot overwrite each other unseen) and creation key

Revision ID: d7e2a9c4b1f0
Revises: cf403a543ff8
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7e2a9c4b1f0'
down_revision = 'cf403a543ff8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('seminars', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('creation_key', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_seminars_creation_key'), ['creation_key'])


def downgrade():
    with op.batch_alter_table('seminars', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_seminars_creation_key'), type_='unique')
        batch_op.drop_column('creation_key')
        batch_op.drop_column('version')
