"""registrations: late places offered (offered_at, offer_expires_at) and "I am coming" (attendance_confirmed_at)

Revision ID: b5e1d7c3a9f2
Revises: e5b1c7d3a920
Create Date: 2026-12-06 04:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5e1d7c3a9f2'
down_revision = 'e5b1c7d3a920'
branch_labels = None
depends_on = None

OPEN_OFFERS = "status = 'waitlisted' AND offer_expires_at IS NOT NULL"


def upgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attendance_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('offered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_registrations_open_offers', ['offer_expires_at'], unique=False,
                              sqlite_where=sa.text(OPEN_OFFERS), postgresql_where=sa.text(OPEN_OFFERS))


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_registrations_open_offers', sqlite_where=sa.text(OPEN_OFFERS),
                            postgresql_where=sa.text(OPEN_OFFERS))
        batch_op.drop_column('offer_expires_at')
        batch_op.drop_column('offered_at')
        batch_op.drop_column('attendance_confirmed_at')
