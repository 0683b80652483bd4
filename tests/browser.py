"""Real-browser fixtures: Debian's Chromium driven by Playwright against the app served on loopback.

Import the fixtures into a test module (`from tests.browser import browser, live_server, page, ...`).
One Chromium runs per test module; every test gets a fresh browser context (no shared cookies)
and its own app with a fresh database (the `app` fixture of conftest.py), served by a real
werkzeug server in a background thread. The test app sends a strict Content-Security-Policy,
so any inline script or style in a template shows up as a violation in the console log.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server

from booking import CONTENT_SECURITY_POLICY  # noqa: F401  (the policy the app sends, checked by the tests)

CHROMIUM = "/usr/bin/chromium"
# Running as root needs --no-sandbox; the rest keeps Chromium from dialling out of this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Long enough for a slow CI machine, short enough that a hanging page fails the test quickly.
TIMEOUT_MS = 10_000


@dataclass
class ConsoleLog:
    """What a page wrote to the browser console (CSP violations land here as errors)."""

    messages: list[str] = field(default_factory=list)

    def record(self, message) -> None:
        self.messages.append(f"{message.type}: {message.text}")

    @property
    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m]


class LiveServer:
    """The app served by werkzeug on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        app.config["BOOKING_BASE_URL"] = self.url  # absolute links on pages are built on it
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
                    "(apt-get install -y chromium; .ci/run installs it).", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server


def open_page(browser, locale="en-GB", **context_options):
    """A page in a new browser context (English unless `locale` says otherwise, Berlin time); close
    the returned context when done."""
    context = browser.new_context(locale=locale, timezone_id="Europe/Berlin", **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.console_log = ConsoleLog()
    page.on("console", page.console_log.record)
    return context, page


@pytest.fixture
def page(browser, live_server):
    """A desktop-sized page in a fresh context; `page.console_log` holds its console messages."""
    context, page = open_page(browser, viewport=DESKTOP)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A phone-sized touch page (390x844, like a current iPhone) in a fresh context."""
    context, page = open_page(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield page
    context.close()


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways).

    Measured against the layout's own width (clientWidth), not window.innerWidth: a mobile browser
    (is_mobile) widens its window to fit wide content, so innerWidth would hide the overflow."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


# --- one app for a whole module ---------------------------------------------------------------------

def _module_database_url(tmp_path) -> str:
    from config import database_url

    url = os.environ.get("TEST_DATABASE_URL")
    return database_url(url) if url else f"sqlite:///{tmp_path / 'test.sqlite'}"


@contextmanager
def app_for_module(tmp_path, **overrides):
    """An app with a fresh database, built as conftest's `app` fixture builds it, for a module whose
    tests share one seeded database (each test adds only rows that no other test of it counts).

    Use it in a module-scoped fixture: `with app_for_module(tmp_path_factory.mktemp("db")) as app:`.
    """
    from booking import create_app
    from booking.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": _module_database_url(tmp_path), **overrides})
    with app.app_context():
        db.drop_all()
        db.create_all()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.fixture(scope="module")
def module_live_server(module_app):
    """The module's app (a `module_app` fixture the module defines) served once for all its tests."""
    with LiveServer(module_app) as server:
        yield server
