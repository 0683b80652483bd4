"""Database plumbing shared by every domain: UTC datetimes, SQLite set-up, write serialisation.

Capacity must never be exceeded, so whoever decides about places holds a per-seminar lock:
on PostgreSQL the seminar row is locked with SELECT ... FOR UPDATE; SQLite has one writer at a
time, so there a writing transaction starts with BEGIN IMMEDIATE and cannot be overtaken
between reading the counts and writing its decision.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import Flask, request
from sqlalchemy import DateTime, Enum, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from .extensions import db

WRITE_OPTION = "booking_write"
# Between two batches of a long job (the retention purge) on SQLite: time for waiting writers to take the lock.
BATCH_PAUSE = 0.02


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime, stored in UTC (naive UTC on SQLite, timestamptz on PostgreSQL)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; booking stores timezone-aware datetimes only")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def str_enum(enum_class, name: str, length: int = 20) -> Enum:
    """A column type for a str enum, stored as its values in a VARCHAR with a CHECK constraint."""
    return Enum(enum_class, name=name, native_enum=False, length=length, validate_strings=True,
                values_callable=lambda members: [member.value for member in members])


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def begin_write() -> None:
    """Start the session's transaction as a writing one (SQLite: BEGIN IMMEDIATE).

    Call before the first query of a unit of work that decides about places. Web requests
    with an unsafe method get this automatically; CLI jobs and threads call it themselves.
    """
    if not db.session().in_transaction():
        db.session.connection(execution_options={WRITE_OPTION: True})


def commit_between_batches() -> None:
    """For a CLI job done in batches (the retention purge): commit the batch, start the next
    writing transaction. A writer waiting for SQLite's lock polls for it (busy_timeout): the
    pause gives it its turn before the job takes the lock again."""
    db.session.commit()
    if is_sqlite():
        time.sleep(BATCH_PAUSE)
    begin_write()


def in_write_transaction() -> bool:
    connection = db.session.connection()
    return not is_sqlite() or bool(connection.get_execution_options().get(WRITE_OPTION))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        # Let SQLAlchemy emit BEGIN itself, so a writing transaction can say IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def init_database(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)

    @app.before_request
    def _writing_requests_begin_write():
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            begin_write()
