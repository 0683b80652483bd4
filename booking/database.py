"""Database plumbing shared by every domain: UTC datetimes, SQLite set-up, write serialisation.

Capacity must never be exceeded, so whoever decides about places holds a per-seminar lock:
on PostgreSQL the seminar row is locked with SELECT ... FOR UPDATE; SQLite has one writer at a
time, so there a writing transaction starts with BEGIN IMMEDIATE and cannot be overtaken
between reading the counts and writing its decision.

SQLite, taking turns: a writer that finds the write lock taken is left by SQLite to poll for it
(busy_timeout: sleeps of 1, 2, 5 ... up to 100 ms), so under a rush the lock often lay free while
the next writer slept, and some waited far longer than others (p99 at 32 clients 400-660 ms,
p50 150-230). So before its BEGIN IMMEDIATE a writer of this app first takes its turn: an
exclusive flock on a file beside the database (`<database>-writer`), held until its connection
goes back to the pool (right after the COMMIT or ROLLBACK). The kernel wakes a waiting writer the
moment the turn is given back. SQLite's own lock stays what makes it correct (another program, or
a second connection of a thread that holds the turn, simply waits for it as before).
"""
from __future__ import annotations

import fcntl
import os
import threading
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


def reads_first(view):
    """Mark a view whose POST reads (its seminar, its form) before it writes, and begins its
    writing itself with `begin_writing` right before its first write: on SQLite the single write
    lock is then held only through the writing, not through the form's checks (every other
    unsafe request begins writing before the view runs). The view must write nothing before."""
    view.booking_reads_first = True
    return view


def begin_write() -> None:
    """Start the session's transaction as a writing one (SQLite: BEGIN IMMEDIATE).

    Call before the first query of a unit of work that decides about places. Web requests
    with an unsafe method get this automatically; CLI jobs and threads call it themselves.
    """
    if not db.session().in_transaction():
        db.session.connection(execution_options={WRITE_OPTION: True})


def begin_writing() -> None:
    """Begin the request's writing now (views marked `reads_first`). On SQLite a reading
    transaction cannot become a writing one safely (should another writer commit meanwhile, SQLite
    refuses the first write), so the reading one is ended (rolled back: what it loaded is read
    again when used, and what decides is read again under the lock anyway) and a writing one
    begins. On PostgreSQL nothing changes: the seminar's row lock is what orders the writers."""
    if not is_sqlite() or in_write_transaction():
        return
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("begin_writing: the session holds changes made before the writing began")
    session.rollback()  # a reading transaction: nothing to keep (the request still commits once)
    begin_write()


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

    turn_path = None if engine.url.database in (None, "", ":memory:") else engine.url.database + "-writer"

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(WRITE_OPTION):
            if turn_path is not None:
                _take_turn(connection.connection.info, turn_path)
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


TURN_KEY = "booking_writer_turn"  # in the pool's info of a connection holding the turn: the file it is held on
_turns = threading.local()  # per thread: its file of turns, and whether it holds the turn


class _TurnFile:
    """The file a thread waits for its turn on, closed when the thread is gone (its thread-local
    goes, and so does this; a plain descriptor would stay open)."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def fileno(self) -> int:
        return self.fd

    def __del__(self):
        os.close(self.fd)


def _take_turn(connection_info: dict, path: str) -> None:
    """Wait for this writer's turn (see the module's docstring); `_give_turn` gives it back."""
    if getattr(_turns, "holder", None) == os.getpid():
        return  # this thread holds the turn through another connection: SQLite's lock decides
    if getattr(_turns, "opened", None) != (os.getpid(), path):
        # a file of its own per thread (threads wait for one another too), opened anew after a fork
        _turns.file, _turns.opened = _TurnFile(path), (os.getpid(), path)
    fcntl.flock(_turns.file, fcntl.LOCK_EX)
    _turns.holder = os.getpid()
    connection_info[TURN_KEY] = _turns.file


def _give_turn(dbapi_connection, connection_record) -> None:
    """The pool's checkin: right after the COMMIT or ROLLBACK, the connection back in the pool."""
    turn_file = connection_record.info.pop(TURN_KEY, None)
    if turn_file is not None:
        fcntl.flock(turn_file, fcntl.LOCK_UN)
        _turns.holder = None


def init_database(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)
            if not event.contains(db.engine.pool, "checkin", _give_turn):
                event.listen(db.engine.pool, "checkin", _give_turn)

    @app.before_request
    def _writing_requests_begin_write():
        if request.method not in ("GET", "HEAD", "OPTIONS") and not getattr(
                app.view_functions.get(request.endpoint), "booking_reads_first", False):
            begin_write()
