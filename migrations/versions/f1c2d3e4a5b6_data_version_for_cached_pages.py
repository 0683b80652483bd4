"""data_version: one row whose number rises with every change a public page shows (cached pages)

Revision ID: f1c2d3e4a5b6
Revises: b5e1d7c3a9f2
Create Date: 2026-12-06 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1c2d3e4a5b6'
down_revision = 'b5e1d7c3a9f2'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'data_version',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_data_version_one_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version')),
    )
    op.bulk_insert(table, [{'id': 1, 'version': 0}])


def downgrade():
    op.drop_table('data_version')
