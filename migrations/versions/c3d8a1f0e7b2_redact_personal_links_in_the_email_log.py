"""redact personal links in the email log (emails stored before links were redacted on storing)

Revision ID: c3d8a1f0e7b2
Revises: 5b7e2c9d1a40
Create Date: 2026-12-10 10:00:00.000000

Data only: the subject, text, HTML and calendar kept of every sent email get the token of each
personal link replaced (booking/redaction.py), as the dispatcher now stores them. Nothing to undo:
the email sent kept its links, and a redacted token cannot be brought back.
"""
from alembic import op
import sqlalchemy as sa

from booking.redaction import redact, redact_calendar


# revision identifiers, used by Alembic.
revision = 'c3d8a1f0e7b2'
down_revision = '5b7e2c9d1a40'
branch_labels = None
depends_on = None

outbox = sa.table('outbox_messages', sa.column('id', sa.Integer), sa.column('subject', sa.Text),
                  sa.column('body_text', sa.Text), sa.column('body_html', sa.Text), sa.column('calendar', sa.Text))


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.select(outbox.c.id, outbox.c.subject, outbox.c.body_text, outbox.c.body_html,
                                        outbox.c.calendar)).all()
    for row in rows:
        values = {"subject": redact(row.subject), "body_text": redact(row.body_text),
                  "body_html": redact(row.body_html), "calendar": redact_calendar(row.calendar)}
        if values != {"subject": row.subject, "body_text": row.body_text, "body_html": row.body_html,
                      "calendar": row.calendar}:
            connection.execute(sa.update(outbox).where(outbox.c.id == row.id).values(**values))


def downgrade():
    pass
