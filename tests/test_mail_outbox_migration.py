"""The revision that lets the outbox hold any rendered subject keeps what the email log holds."""
import flask_migrate
from sqlalchemy import text

from booking.extensions import db
from tests.test_migrations import empty_app, keep_logging  # noqa: F401 (fixtures)

BEFORE = "8a2d709071d8"
NOW = "2026-01-05 10:00:00"


def count(table: str) -> int:
    with db.engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def subject_length() -> int:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT length(subject) FROM outbox_messages WHERE id = 1")).scalar_one()


def test_upgrade_and_downgrade_keep_delivery_attempts(empty_app):  # noqa: F811
    flask_migrate.upgrade(revision=BEFORE)
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO outbox_messages (id, dedupe_key, kind, revision, recipient, facts, status, attempts,"
            " next_attempt_at, created_at, subject) VALUES (1, 'confirmation-1', 'confirmation', 0,"
            " 'a@example.net', '{}', 'sent', 1, :now, :now, 'Your place')"), {"now": NOW})
        connection.execute(text("INSERT INTO delivery_attempts (id, message_id, attempted_at, outcome, detail)"
                                " VALUES (1, 1, :now, 'sent', 'accepted')"), {"now": NOW})

    # SQLite rebuilds the table; with foreign keys on, that deleted every delivery attempt (ON DELETE CASCADE)
    flask_migrate.upgrade()
    assert count("delivery_attempts") == 1
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE outbox_messages SET subject = :subject"), {"subject": "Ü" * 1000})
    assert subject_length() == 1000

    flask_migrate.downgrade(revision=BEFORE)
    assert count("delivery_attempts") == 1
    assert subject_length() == 300
