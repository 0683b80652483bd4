"""registrations.anonymised_at: when a registration's personal data was removed (privacy, retention)

Revision ID: 9f3c1e7a2b60
Revises: b8d41f0e7a23
Create Date: 2026-11-29 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9f3c1e7a2b60'
down_revision = 'b8d41f0e7a23'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
