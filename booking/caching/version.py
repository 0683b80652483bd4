"""The data version: a number that rises in the same transaction as every change a public page shows.

A page kept for version 41 is served while the version is 41; a registration, a cancellation, a
promotion, an offer, a session moved, a seminar edited or published, a topic renamed, an
association accepted, a purge... each raises it in the transaction that makes the change, so the
next request (in any worker, on any app server) finds a new version and renders afresh.

It is raised in ONE place, a session event, whenever a row of a model in SHOWN changes in a way
the public pages show; no service calls anything. `before_flush` (objects) and `do_orm_execute`
(bulk UPDATE/DELETE/INSERT statements) only note that the transaction changed shown data; the row
itself is updated once, at the very end of the transaction (`before_commit`, after the last flush,
just before COMMIT): `UPDATE data_version SET version = version + 1 ... RETURNING version`. On
PostgreSQL that row lock is the one every writing transaction of the site shares; taken at the first
flush, it would be held through all the rest of the transaction (a registration's inserts, the
outbox, the audit entry), and every other writer would queue behind it. Taken last, it is held only
through the COMMIT, and it is always the last lock a transaction takes, so it cannot be part of a
deadlock.

Why no page can be kept stale with this ordering: the data and the new number become visible
together, at the one COMMIT (a rolled-back transaction takes both back). A request reads the
version before it reads any data (booking.caching.pages), and on PostgreSQL each later statement
sees at least what was committed when the version was read (on SQLite the same snapshot), so a
page kept under version N holds every change committed with a number up to N; at worst it holds a
newer change too, whose own number makes the next request render afresh anyway. Two writers bump
one after the other (the second waits for the first's row lock, then increments the committed
number), so the numbers rise in the order of the commits. Where in its transaction a writer
raises the number does not matter to this argument, only that it is the same transaction.

Savepoints: a savepoint rolled back leaves the note in place, so the transaction still raises the
version at its commit (at worst once for nothing: the number only has to rise). A transaction
rolled back raises nothing.

With BOOKING_CACHE_URL the committed version is mirrored after every commit that raised it, and
requests read it there instead of from the database: in Redis (redis://..., for several app
servers) or in a memory-mapped file (file:///..., every process of one machine: the gunicorn
workers, the mail worker, flask commands). Either way the number is written only after the COMMIT
(before the request that made the change answers, so a request that follows that answer finds it),
never downwards (two commits may publish out of order; a process may stall between its COMMIT and
the write), and it holds for MIRROR_SECONDS after it was last written: a write lost (a process killed
between its COMMIT and the write, a change made with psql) is put right from the database within
that time. A mirror unreachable, or holding a number above the database's (a database restored
from a backup goes back to lower numbers): requests read the database, as without it (delete the
file or the Redis keys after a restore to use the mirror again at once).
"""
from __future__ import annotations

import fcntl
import logging
import mmap
import os
import struct
import threading
import time
import weakref
from itertools import chain

from flask import Flask, current_app, has_app_context, request
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session as OrmSession

from ..associations.models import Association
from ..attendance.models import Attendance
from ..extensions import db
from ..registrations.models import Registration
from ..seminars.models import Seminar, Session, Topic
from .models import DataVersion

log = logging.getLogger(__name__)

# Models whose rows kept pages show, and the attributes that matter (None: every attribute).
# The public pages show a registration only as counts and places left; its manage page, kept too
# (per link), shows every attribute of it (name, address, language, status, offer, "I am coming",
# the link's own validity: token_version, anonymised_at) and the attendance ticks that decide
# whether the certificate can be downloaded.
SHOWN: dict[type, frozenset[str] | None] = {
    Seminar: None,
    Session: None,
    Topic: None,
    Association: None,  # the accepted ones are the registration form's choices; the manage page names it
    Registration: None,
    Attendance: None,
}

CHANGED = "booking_data_version_changed"  # session.info: shown data changed in the transaction under way
PUBLISH = "booking_data_version_publish"  # session.info: the committed number, to mirror after the commit
REDIS_KEY = "data-version"  # after the app's Redis key prefix (RATELIMIT_KEY_PREFIX, "booking")
REQUEST_KEY = "booking.data_version"
MIRROR_SECONDS = 10

# Redis: KEYS[1] holds the number while it is valid (it expires), KEYS[2] the highest number ever
# written (it does not): a number lower than that is never written (two commits may publish out of
# order, a process may stall between its COMMIT and the write); an equal one makes it valid again.
_SET_IF_NOT_LOWER = """
local highest = tonumber(redis.call('GET', KEYS[2]) or '-1')
if tonumber(ARGV[1]) >= highest then
  redis.call('SET', KEYS[2], ARGV[1])
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""

def _shows(obj, session: OrmSession) -> bool:
    attributes = SHOWN.get(type(obj), False)
    if attributes is False:
        return False
    if obj in session.new or obj in session.deleted:
        return True
    if attributes is None:
        return session.is_modified(obj)
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def _note_change(session: OrmSession) -> None:
    session.info[CHANGED] = True


def bump(session: OrmSession) -> int:
    """Raise the version in the session's transaction and return the new number (at its commit, see above)."""
    return session.connection().execute(_BUMP).scalar_one()


_BUMP = (update(DataVersion.__table__).where(DataVersion.__table__.c.id == 1)
         .values(version=DataVersion.__table__.c.version + 1).returning(DataVersion.__table__.c.version))


def _before_flush(session, flush_context, instances):
    if session.info.get(CHANGED):
        return
    if any(_shows(obj, session) for obj in chain(session.new, session.dirty, session.deleted)):
        _note_change(session)


def _do_orm_execute(state):
    if not (state.is_update or state.is_delete or state.is_insert) or state.session.info.get(CHANGED):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ in SHOWN:
        _note_change(state.session)


def _after_soft_rollback(session, previous_transaction):
    # the whole transaction rolled back: nothing of it is committed, nothing to raise. (A savepoint
    # rolled back keeps the note: the transaction may have changed shown data before it.)
    if previous_transaction.parent is None:
        session.info.pop(CHANGED, None)
        session.info.pop(PUBLISH, None)


def _before_commit(session):
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    # SQLAlchemy flushes what is pending only after this event: flush first, so its changes are noted
    session.flush()
    if session.info.pop(CHANGED, None):
        session.info[PUBLISH] = bump(session)


def _after_commit(session):
    if session.in_nested_transaction():  # (SQLAlchemy tells of savepoints released too)
        return
    session.info.pop(CHANGED, None)
    value = session.info.pop(PUBLISH, None)
    if value is not None and mirror_configured():
        _publish(int(value))


def _after_transaction_end(session, transaction):
    if transaction.parent is None:
        session.info.pop(CHANGED, None)
        session.info.pop(PUBLISH, None)


# --- reading, and the mirrors ----------------------------------------------------------------------

_clients: dict[str, object] = {}


def redis_client(config=None):
    """The Redis client for a redis:// BOOKING_CACHE_URL, or None (`config`: the app's, by default
    the current app's; the fast lane runs outside any app context)."""
    url = (config if config is not None else current_app.config).get("BOOKING_CACHE_URL") or ""
    if not url or url.startswith("file:"):
        return None
    client = _clients.get(url)
    if client is None:
        import redis

        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client


def redis_key(config=None) -> str:
    return f"{(config if config is not None else current_app.config)['RATELIMIT_KEY_PREFIX']}:{REDIS_KEY}"


class RedisMirror:
    """The version in Redis, under `<RATELIMIT_KEY_PREFIX>:data-version`: for several app servers."""

    unreachable = "Redis unreachable"

    def __init__(self, config):
        self.client, self.key = redis_client(config), redis_key(config)

    def get(self) -> int | None:
        stored = self.client.get(self.key)
        return int(stored) if stored is not None else None

    def set_if_not_lower(self, value: int) -> None:
        self.client.eval(_SET_IF_NOT_LOWER, 2, self.key, f"{self.key}:highest", value, MIRROR_SECONDS)


# the file: the version and until when it holds (time.time()), little-endian
_FILE_LAYOUT = struct.Struct("<qd")


class FileMirror:
    """The version in a small file that every process of this machine maps into its memory.

    A read is a shared lock on the file (flock), 16 bytes read from the mapping and the lock
    released: a few microseconds, against a round trip to the database server. A write takes the
    exclusive lock and stores the number, valid for MIRROR_SECONDS, unless a higher one is stored
    (valid or not: see the module's docstring). Each process opens the file itself (a process
    forked after opening it opens it anew: flock locks belong to an open file, which a fork shares);
    threads of one process take turns (the lock is the process's, made anew in a forked child).
    The file is created (mode 0600) when missing; its folder must exist (checked at start-up).
    """

    unreachable = "data version file unusable"

    def __init__(self, path: str):
        self.path = path
        self._fd = None
        self._map = None
        self._lock = threading.Lock()
        forked = weakref.WeakMethod(self._forked)
        os.register_at_fork(after_in_child=lambda: (method := forked()) and method())

    def _forked(self) -> None:
        """In a child process: its own lock (the parent's may have been held by another thread at
        the fork) and, at the next use, its own open file (flock belongs to an open file)."""
        self._lock = threading.Lock()
        self._close()

    def _ensure(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.fstat(fd).st_size < _FILE_LAYOUT.size:
                    os.ftruncate(fd, _FILE_LAYOUT.size)  # zeros: version 0, expired long ago
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self._map = mmap.mmap(fd, _FILE_LAYOUT.size)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _close(self) -> None:
        if self._map is not None:
            try:
                self._map.close()
            except (OSError, ValueError):
                pass
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
        self._map = self._fd = None

    def get(self) -> int | None:
        with self._lock:
            self._ensure()
            fcntl.flock(self._fd, fcntl.LOCK_SH)
            try:
                value, until = _FILE_LAYOUT.unpack_from(self._map, 0)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        return value if until >= time.time() else None

    def set_if_not_lower(self, value: int) -> None:
        with self._lock:
            self._ensure()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                stored, _until = _FILE_LAYOUT.unpack_from(self._map, 0)
                if value >= stored:
                    _FILE_LAYOUT.pack_into(self._map, 0, value, time.time() + MIRROR_SECONDS)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


_file_mirrors: dict[str, FileMirror] = {}


def file_path(url: str) -> str | None:
    """The path of a file:/// BOOKING_CACHE_URL (None for any other)."""
    return url[len("file://"):] if url.startswith("file://") else None


def mirror(config=None) -> RedisMirror | FileMirror | None:
    """Where BOOKING_CACHE_URL mirrors the version, or None without it."""
    config = config if config is not None else current_app.config
    url = config.get("BOOKING_CACHE_URL") or ""
    if not url:
        return None
    path = file_path(url)
    if path is None:
        return RedisMirror(config)
    kept = _file_mirrors.get(path)
    if kept is None:
        kept = _file_mirrors[path] = FileMirror(path)
    return kept


def mirror_configured() -> bool:
    return has_app_context() and bool(current_app.config.get("BOOKING_CACHE_URL"))


def _publish(value: int) -> None:
    """After a commit that raised the version: put the committed number into the mirror."""
    store = mirror()
    try:
        store.set_if_not_lower(value)
    except Exception as exc:  # redis.RedisError, OSError: it expires, and requests read the database
        log.warning("data version %s not mirrored (%s: %s)", value, store.unreachable, type(exc).__name__)


_VERSION_QUERY = select(DataVersion.version).where(DataVersion.id == 1)
_VERSION_SQL = "SELECT version FROM data_version WHERE id = 1"
READER = "booking_data_version_reader"  # app.extensions


class VersionReader:
    """Reads the committed version on a DBAPI connection of its own per thread, in autocommit.

    A cached page costs this one read, so it skips what SQLAlchemy does per use of a pooled
    connection (checkout, autobegin, events, the BEGIN of booking/database.py, rollback on return):
    about 20 µs on SQLite instead of 400. The thread keeps its cursor too, and psycopg runs the read
    as a prepared statement (a third less time per read on PostgreSQL). The connection comes from the engine (its connect events
    ran: SQLite's pragmas), is detached from the pool and kept by the thread; in autocommit every
    read sees the latest commit, and no transaction stays open between requests (PostgreSQL's
    vacuum is never held up). A failed read (the server restarted, the connection dropped) is
    retried once on a new connection. A process forked after a read (gunicorn --preload) connects
    anew: a connection is never shared by two processes. The engine's dispose closes them all.
    """

    def __init__(self, engine):
        self.engine = engine
        self._local = threading.local()
        self._open: list = []  # (pid, connection) of every thread, to close them when the engine is disposed
        self._lock = threading.Lock()
        self._execute_options = {"prepare": True} if engine.dialect.driver == "psycopg" else {}
        event.listen(engine, "engine_disposed", lambda _engine: self.close_all())

    def _connect(self):
        pooled = self.engine.raw_connection()
        connection = pooled.driver_connection
        pooled.detach()
        if self.engine.dialect.name == "postgresql":
            connection.autocommit = True
        # (SQLite: booking/database.py turned the driver's own transactions off on connect)
        self._local.connection, self._local.pid = connection, os.getpid()
        self._local.cursor = connection.cursor()
        with self._lock:
            self._open.append((os.getpid(), connection))
        return self._local.cursor

    def _drop(self, connection) -> None:
        self._local.connection = None
        with self._lock:
            self._open = [(pid, kept) for pid, kept in self._open if kept is not connection]
        try:
            connection.close()
        except Exception:  # already broken: nothing left to close
            pass

    def read(self) -> int:
        connection = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            cursor = self._connect()
        else:
            cursor = self._local.cursor
        try:
            return self._query(cursor)
        except Exception as exc:
            log.warning("data version read failed (%s): reconnecting", type(exc).__name__)
            self._drop(self._local.connection)
            return self._query(self._connect())

    def _query(self, cursor) -> int:
        cursor.execute(_VERSION_SQL, **self._execute_options)
        rows = cursor.fetchall()  # to the end: SQLite's statement is done, and holds no snapshot until the next read
        return (rows[0][0] if rows else 0) or 0

    def close_all(self) -> None:
        with self._lock:
            # a parent process's connections stay referenced: closing one here would end it there
            connections = [connection for pid, connection in self._open if pid == os.getpid()]
            self._open = [(pid, connection) for pid, connection in self._open if pid != os.getpid()]
        for connection in connections:
            try:
                connection.close()
            except Exception:
                pass
        self._local = threading.local()


def database_version(app: Flask | None = None, *, through_session: bool = True) -> int:
    """The committed version. On the thread's own connection (VersionReader) when the request has
    read nothing yet (a cached page: nothing else is read); once the ORM session holds a
    transaction, through it, so that the version is never newer than the data the session sees
    (SQLite reads from the snapshot its transaction began with). The fast lane, before Flask, passes
    `through_session=False`: no session of this request exists yet."""
    if through_session and has_app_context() and db.session.registry.has() and db.session().in_transaction():
        return db.session.scalar(_VERSION_QUERY) or 0
    app = app if app is not None else current_app._get_current_object()
    return app.extensions[READER].read()


def read_version(app: Flask, environ: dict, *, through_session: bool = True) -> int:
    """The data version for this request: read once (from the mirror when configured, else the
    database) and kept in the WSGI environ, where the fast lane and the Flask view find it alike."""
    if REQUEST_KEY in environ:
        return environ[REQUEST_KEY]
    value = None
    store = mirror(app.config)
    if store is not None:
        try:
            value = store.get()
        except Exception as exc:
            log.warning("%s (%s): the data version is read from the database", store.unreachable, type(exc).__name__)
            store = None
    if value is None:
        value = database_version(app, through_session=through_session)
        if store is not None:
            try:
                store.set_if_not_lower(value)
            except Exception as exc:
                log.warning("data version %s not mirrored (%s: %s)", value, store.unreachable, type(exc).__name__)
    environ[REQUEST_KEY] = value
    return value


def current_version() -> int:
    """The data version for this request (see read_version)."""
    # kept on the request, not in `g`: an app context may outlive one request (the shell, tests)
    return read_version(current_app._get_current_object(), request.environ)


def init_app(app: Flask) -> None:
    with app.app_context():
        app.extensions[READER] = VersionReader(db.engine)
    session_class = db.session.session_factory.class_
    for name, listener in (("before_flush", _before_flush), ("do_orm_execute", _do_orm_execute),
                           ("after_soft_rollback", _after_soft_rollback), ("before_commit", _before_commit),
                           ("after_commit", _after_commit),
                           ("after_transaction_end", _after_transaction_end)):
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)
