"""outbox columns the dispatcher writes hold any length

A rendered subject ("For <name>: Invitation: <title>, <when>") can outgrow VARCHAR(300); on
PostgreSQL storing it then failed after the mail server had accepted the message.

Revision ID: 667fbde803d6
Revises: 8a2d709071d8
Create Date: 2026-11-29 17:18:11.675155

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '667fbde803d6'
down_revision = '8a2d709071d8'
branch_labels = None
depends_on = None

# column: its length before this revision
_BOUNDED = {'skip_reason': 200, 'subject': 300, 'message_id': 300}


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        for column, length in _BOUNDED.items():
            batch_op.alter_column(column, existing_type=sa.VARCHAR(length=length), type_=sa.Text(),
                                  existing_nullable=True)


def downgrade():
    for column, length in _BOUNDED.items():
        # the old columns cannot hold longer values: keep their beginning
        op.execute(f"UPDATE outbox_messages SET {column} = substr({column}, 1, {length}) "
                   f"WHERE length({column}) > {length}")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        for column, length in _BOUNDED.items():
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.VARCHAR(length=length),
                                  existing_nullable=True)
