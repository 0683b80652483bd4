"""Fixtures: an app with a fresh database per test, a client, and factories with sensible defaults.

The suite runs on SQLite by default (a file per test, so threads can share it) and on
PostgreSQL when TEST_DATABASE_URL is set (tables created and dropped around every test).
"""
from __future__ import annotations

import os
import smtplib

import pytest

os.environ["BOOKING_CONFIG"] = "testing"

from booking import create_app  # noqa: E402
from booking.extensions import db  # noqa: E402
from config import database_url  # noqa: E402


def _database_url(tmp_path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return database_url(url)
    return f"sqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture
def app(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": _database_url(tmp_path)})
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
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
        return
    original_connect = smtplib.SMTP.connect

    def guarded(self, host="localhost", port=0, source_address=None):
        raise AssertionError(f"test opened an SMTP connection to {host}:{port} without the smtp_server fixture")

    monkeypatch.setattr(smtplib.SMTP, "connect", guarded)
    yield
    monkeypatch.setattr(smtplib.SMTP, "connect", original_connect)
