"""The trainer ticks the attendance list on a phone in the seminar room (Chromium, touch, CSRF on,
strict Content-Security-Policy): with JavaScript each tap is saved without reloading the page;
without it, each tap is a small form that saves and comes back to the row."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.attendance.models import Attendance, AttendanceStatus
from booking.extensions import db
from booking.registrations import services as registrations

from tests.browser import PHONE, browser, horizontal_overflow, live_server, open_page, phone_page  # noqa: F401
from tests.factories import make_applicant, make_seminar, now

PASSWORD = "ein langes Passwort"


@pytest.fixture
def room(app):
    with app.app_context():
        trainer = create_user("trainerin@stadt.example", role=Role.TRAINER, display_name="Trainerin",
                              password=PASSWORD)
        start = now() - timedelta(minutes=10)
        seminar = make_seminar(sessions=[(start, start + timedelta(hours=2))], trainer_user_id=trainer.id,
                               title="Vereinsrecht kompakt")
        people = [registrations.register(seminar, make_applicant(first_name=first, last_name=last), None,
                                         now=start - timedelta(days=3))
                  for first, last in (("Leyla", "Yılmaz"), ("Omar", "Haddad"), ("Gül", "Aydın"))]
        db.session.commit()
        return {"url": f"/admin/seminars/{seminar.id}/sessions/{seminar.sessions[0].id}/attendance",
                "ids": {r.first_name: r.id for r in people}, "trainer_id": trainer.id}


def log_in(page, live_server, path):
    page.goto(live_server(path))
    page.get_by_label("Email address").fill("trainerin@stadt.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Attendance")).to_be_visible()


def ticks(app):
    with app.app_context():
        return {a.registration_id: a.status for a in db.session.scalars(db.select(Attendance))}


def test_with_javascript_each_tap_saves_without_reloading(app, live_server, phone_page, room):
    page = phone_page
    log_in(page, live_server, room["url"])
    leyla = page.locator(f"#person-{room['ids']['Leyla']}")
    omar = page.locator(f"#person-{room['ids']['Omar']}")
    present = leyla.get_by_role("button", name="Present")
    box = present.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 96  # a thumb's target, a third of the row
    assert horizontal_overflow(page) == 0
    page.evaluate("window.notReloaded = true")
    loads = []
    page.on("load", lambda _: loads.append(page.url))

    present.tap()
    expect(present).to_have_attribute("aria-pressed", "true")
    expect(leyla.locator("[data-state]")).to_have_text("Present")
    omar.get_by_role("button", name="Absent").tap()
    expect(omar.get_by_role("button", name="Absent")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-count='present']")).to_have_text("1")
    expect(page.locator("[data-count='absent']")).to_have_text("1")
    expect(page.locator("[data-count='unticked']")).to_have_text("1")
    expect(page.locator("#roll-status")).to_have_text("Omar Haddad: Absent")

    # Omar calls: he is excused after all; the tap changes his tick
    omar.get_by_role("button", name="Excused").tap()
    expect(omar.get_by_role("button", name="Excused")).to_have_attribute("aria-pressed", "true")
    expect(omar.get_by_role("button", name="Absent")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("[data-count='absent']")).to_have_text("0")

    assert page.evaluate("window.notReloaded") is True and loads == []
    assert page.url == live_server(room["url"])
    assert ticks(app) == {room["ids"]["Leyla"]: AttendanceStatus.PRESENT, room["ids"]["Omar"]: AttendanceStatus.EXCUSED}
    assert page.console_log.csp_violations == []

    # after a reload the page shows what was saved
    page.reload()
    expect(page.locator(f"#person-{room['ids']['Omar']}").get_by_role("button", name="Excused")).to_have_attribute(
        "aria-pressed", "true")


def test_without_javascript_a_tap_saves_and_comes_back_to_the_row(app, browser, live_server, room):
    context, page = open_page(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                              java_script_enabled=False)
    try:
        log_in(page, live_server, room["url"])
        gul = page.locator(f"#person-{room['ids']['Gül']}")
        gul.get_by_role("button", name="Absent").tap()
        page.wait_for_url(f"**{room['url']}#person-{room['ids']['Gül']}")
        gul = page.locator(f"#person-{room['ids']['Gül']}")
        expect(gul.get_by_role("button", name="Absent")).to_have_attribute("aria-pressed", "true")
        expect(gul.locator("[data-state]")).to_have_text("Absent")
        assert ticks(app) == {room["ids"]["Gül"]: AttendanceStatus.ABSENT}
    finally:
        context.close()
