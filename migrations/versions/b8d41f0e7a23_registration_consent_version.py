"""registrations record the privacy notice version agreed to

Revision ID: b8d41f0e7a23
Revises: c3d8a1f0e7b2
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d41f0e7a23'
down_revision = 'c3d8a1f0e7b2'
branch_labels = None
depends_on = None


def upgrade():
    # Existing registrations keep NULL: they agreed to the notice before it carried a version.
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_version', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_column('consent_version')
