"""Fixtures: an app with a fresh database per test, a client, and factories with sensible defaults.

The suite runs on SQLite by default (a file per test, so threads can share it: a copy of one
made with every table once per test process) and on PostgreSQL when TEST_DATABASE_URL is set
(tables created and dropped around every test).
"""
from __future__ import annotations

import email
import email.policy
import os
import shutil
import smtplib
import socket
from pathlib import Path

import pytest

os.environ["BOOKING_CONFIG"] = "testing"

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from booking import create_app  # noqa: E402
from booking.extensions import db  # noqa: E402
from config import database_url  # noqa: E402


SQLITE_FILE = "test.sqlite"


def _database_url(tmp_path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return database_url(url)
    return f"sqlite:///{tmp_path / SQLITE_FILE}"


class EnglishReadingClient(FlaskClient):
    """A test client whose browser asks for English, the language most assertions read.

    The site's default is German; tests of another language ask for it (`?lang=`, or their own
    Accept-Language header)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")


# every app the tests build, the `app` fixture's and those tests make themselves
Flask.test_client_class = EnglishReadingClient


def pytest_configure(config):
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (the tests create and
    drop tables), made afresh from TEST_DATABASE_URL's name plus the worker's id."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("TEST_DATABASE_URL")
    if not (worker and url):
        return
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(database_url(url))
    name = f"{base.database}_{worker}"
    admin_url = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["TEST_DATABASE_URL"] = base.set(drivername="postgresql", database=name).render_as_string(
        hide_password=False)


def pytest_unconfigure(config):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("TEST_DATABASE_URL")
    if not (worker and url and url.rstrip("/").endswith(f"_{worker}")):
        return
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with psycopg.connect(make_url(url).set(database="postgres").render_as_string(hide_password=False),
                         autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_sessionstart(session):
    """The app reads compiled catalogues: a missing or stale one would show tests the wrong text."""
    from booking.languages import TRANSLATIONS_DIR

    for catalogue in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"):
        compiled = catalogue.with_suffix(".mo")
        if not compiled.exists() or compiled.stat().st_mtime < catalogue.stat().st_mtime:
            pytest.exit(f"{compiled} is missing or older than its .po: run `make translations` "
                        "(make test does)", returncode=4)


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory) -> Path | None:
    """On SQLite, a database file with every table (db.create_all), made once per test process: each
    test's database starts as a copy of it. Creating and dropping the tables for each of 900 tests
    cost about 25 ms of CPU and 50-100 ms of waiting for the disk a test; a copy costs about 1 ms.
    None on PostgreSQL, where the `app` fixture creates and drops the tables around every test."""
    if os.environ.get("TEST_DATABASE_URL"):
        return None
    path = tmp_path_factory.mktemp("schema") / "schema.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    assert not path.with_name(path.name + "-wal").exists(), "the schema is not all in the file to copy"
    return path


@pytest.fixture
def app(tmp_path, request, sqlite_schema):
    overrides = {"SQLALCHEMY_DATABASE_URI": _database_url(tmp_path)}
    if "smtp_server" in request.fixturenames:
        server = request.getfixturevalue("smtp_server")
        overrides |= {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port}
    if sqlite_schema is not None:
        shutil.copyfile(sqlite_schema, tmp_path / SQLITE_FILE)
    app = create_app(overrides)
    if sqlite_schema is None:
        with app.app_context():
            db.drop_all()
            db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        if sqlite_schema is None:
            db.drop_all()  # the SQLite file goes with tmp_path
        db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def no_accidental_smtp(monkeypatch, request):
    """Fail any test that opens an SMTP connection without asking for the real test server."""
    if "smtp_server" in request.fixturenames:
        yield
        return
    original_connect = smtplib.SMTP.connect

    def guarded(self, host="localhost", port=0, source_address=None):
        raise AssertionError(f"test opened an SMTP connection to {host}:{port} without the smtp_server fixture")

    monkeypatch.setattr(smtplib.SMTP, "connect", guarded)
    yield
    monkeypatch.setattr(smtplib.SMTP, "connect", original_connect)


# --- a real SMTP server on loopback -------------------------------------------------------------

class RecordingHandler:
    """aiosmtpd handler that keeps what arrived, or answers with a chosen error."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []
        self.rcpt_reply: str | None = None  # e.g. "550 5.1.1 no such user" or "451 4.3.0 try later"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


class SMTPServer:
    """A real SMTP server (aiosmtpd) on a free loopback port, which tests may stop and start."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.handler = RecordingHandler()
        self.controller = None

    @property
    def messages(self):
        return self.handler.messages

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()
