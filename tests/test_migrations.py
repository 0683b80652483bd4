"""The Alembic revisions under migrations/ build exactly the schema the models describe.

A model change without a revision (or a revision that differs from the model) fails here,
on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""
from __future__ import annotations

import logging

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from booking import create_app
from booking.extensions import db
from tests.conftest import _database_url


@pytest.fixture
def keep_logging():
    """Alembic's env.py reconfigures logging from alembic.ini; give later tests their loggers back."""
    manager = logging.Logger.manager
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers))
    saved = {name: (logger.disabled, logger.level, list(logger.handlers), logger.propagate)
             for name, logger in manager.loggerDict.items() if isinstance(logger, logging.Logger)}
    yield
    root.setLevel(saved_root[0])
    root.handlers[:] = saved_root[1]
    for name, logger in list(manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger):
            continue
        if name in saved:
            logger.disabled, level, handlers, logger.propagate = saved[name]
            logger.setLevel(level)
            logger.handlers[:] = handlers
        else:
            logger.disabled = False


def _drop_everything() -> None:
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def empty_app(tmp_path, keep_logging):
    """An app whose database has no tables at all (unlike the `app` fixture, which runs create_all)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": _database_url(tmp_path)})
    with app.app_context():
        _drop_everything()
        assert inspect(db.engine).get_table_names() == []
        yield app
        _drop_everything()
        db.engine.dispose()


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_builds_the_schema_of_the_models(empty_app):
    flask_migrate.upgrade()

    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) | {"alembic_version"} == tables
    assert schema_differences() == []


def test_downgrade_to_base_and_upgrade_again(empty_app):
    flask_migrate.upgrade()

    flask_migrate.downgrade(revision="base")

    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

    flask_migrate.upgrade()

    assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
    assert schema_differences() == []


def test_email_keys_are_recomputed_in_ascii_form(empty_app):
    flask_migrate.upgrade(revision="8a2d709071d8")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO topics (id, slug, name) VALUES (1, 't', 'T')"))
        connection.execute(text(
            "INSERT INTO seminars (id, slug, title, summary, description, topic_id, languages, trainer, "
            "venue_name, venue_address, capacity, status, created_at) "
            "VALUES (1, 's', 'S', '', '', 1, 'de', '', '', '', 10, 'published', CURRENT_TIMESTAMP)"))
        for row_id, email, status in [(1, "Leyla@MÜNCHEN.de", "confirmed"), (2, "leyla@münchen.de", "cancelled"),
                                      (3, "ali@example.org", "confirmed")]:
            connection.execute(text(
                "INSERT INTO registrations (id, public_id, token_version, seminar_id, first_name, last_name, email, "
                "email_key, preferred_language, consent_at, status, created_at) VALUES (:id, :pid, 1, 1, 'A', 'B', "
                ":email, :key, 'de', CURRENT_TIMESTAMP, :status, CURRENT_TIMESTAMP)"),
                {"id": row_id, "pid": f"p{row_id}", "email": email, "key": email.casefold(), "status": status})
    flask_migrate.upgrade()
    with db.engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT id, email_key FROM registrations ORDER BY id")).all())
    assert keys == {1: "leyla@xn--mnchen-3ya.de", 2: "leyla@xn--mnchen-3ya.de", 3: "ali@example.org"}
