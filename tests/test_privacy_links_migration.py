"""The revision that redacts the personal links of emails kept before they were redacted on storing."""
import flask_migrate
from sqlalchemy import text

from booking.extensions import db
from booking.redaction import REDACTED
from tests.test_migrations import empty_app, keep_logging  # noqa: F401 (fixtures)

BEFORE = "5b7e2c9d1a40"
NOW = "2026-01-05 10:00:00"
LINK = "https://seminare.example.org/registrations/AbCdEfGhIjKl.SecretMacSecretMac"


def test_upgrade_redacts_the_links_of_emails_kept_already(empty_app):  # noqa: F811
    flask_migrate.upgrade(revision=BEFORE)
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO outbox_messages (id, dedupe_key, kind, revision, recipient, facts, status, attempts,"
            " next_attempt_at, created_at, subject, body_text, body_html) VALUES (1, 'confirmation-1',"
            " 'confirmation', 0, 'a@example.net', '{}', 'sent', 1, :now, :now, 'Your place', :text, :html)"),
            {"now": NOW, "text": f"Your link: {LINK}", "html": f'<a href="{LINK}">{LINK}</a>'})

    flask_migrate.upgrade()
    with db.engine.connect() as connection:
        subject, body_text, body_html = connection.execute(
            text("SELECT subject, body_text, body_html FROM outbox_messages WHERE id = 1")).one()
    assert subject == "Your place"
    assert body_text == f"Your link: https://seminare.example.org/registrations/{REDACTED}"
    assert "SecretMac" not in body_html and REDACTED in body_html
