"""A coordinator plans a seminar on a phone in a real browser: create with two sessions, publish,
and find it in the public catalogue (Chromium, CSRF on, strict Content-Security-Policy)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.extensions import db
from booking.seminars.models import Seminar, SeminarStatus

from tests.browser import browser, horizontal_overflow, live_server, phone_page  # noqa: F401
from tests.factories import make_topic


def test_a_coordinator_creates_and_publishes_a_two_session_seminar_on_a_phone(app, live_server, phone_page):
    with app.app_context():
        create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                    password="ein langes Passwort")
        make_topic(name="Vereinsrecht")
        db.session.commit()
    day = lambda n: (datetime.now(timezone.utc) + timedelta(days=n)).astimezone(ZoneInfo("Europe/Berlin"))  # noqa: E731
    page = phone_page
    page.goto(live_server("/admin/seminars/new"))
    page.get_by_label("Email address").fill("koordination@stadt.example")
    page.get_by_label("Password").fill("ein langes Passwort")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="New seminar")).to_be_visible()

    page.get_by_label("Title").fill("Vereinsfinanzen für Einsteiger")
    page.get_by_label("Topic").select_option(label="Vereinsrecht")
    page.get_by_label("Places").fill("12")
    page.get_by_label("Venue", exact=True).fill("Haus der Vereine")
    page.locator("#sessions-0-day").fill(day(14).strftime("%Y-%m-%d"))
    page.locator("#sessions-0-starts").fill("18:00")
    page.locator("#sessions-0-ends").fill("20:30")
    page.get_by_role("button", name="Add another session").click()
    page.locator("#sessions-1-day").fill(day(21).strftime("%Y-%m-%d"))
    page.locator("#sessions-1-starts").fill("18:00")
    page.locator("#sessions-1-ends").fill("20:30")
    assert horizontal_overflow(page) == 0
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("saved as a draft")).to_be_visible()

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("The seminar is published")).to_be_visible()
    assert horizontal_overflow(page) == 0
    assert page.console_log.csp_violations == []

    page.goto(live_server("/"))
    expect(page.get_by_text("Vereinsfinanzen für Einsteiger")).to_be_visible()
    with app.app_context():
        seminar = db.session.scalar(db.select(Seminar))
        assert seminar.status == SeminarStatus.PUBLISHED and len(seminar.sessions) == 2
