"""Attendance's rules: "completed" per BOOKING_COMPLETION_SHARE, the rates on the seminar's page,
and the no-show mark (two unexcused absences in 12 months, across seminars) on the office's lists."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.attendance import services as attendance
from booking.extensions import db
from booking.privacy.services import anonymise_registration
from booking.registrations import services as registrations
from booking.seminars.models import SessionStatus

from tests.factories import csrf_token, make_applicant, make_seminar, now

PASSWORD = "ein langes Passwort"


def held_seminar(days_ago: int, sessions: int = 4, **overrides):
    """A seminar whose `sessions` weekly sessions began `days_ago` days ago (some may still be to come)."""
    first = now().replace(microsecond=0) - timedelta(days=days_ago)
    return make_seminar(sessions=[(first + timedelta(days=7 * i), first + timedelta(days=7 * i, hours=2))
                                  for i in range(sessions)], **overrides)


def register(seminar, **person):
    """Registered a day before the first session (the seminar was open then)."""
    return registrations.register(seminar, make_applicant(**person), None,
                                  now=seminar.sessions[0].starts_at - timedelta(days=1))


def tick(seminar, registration, pattern: str):
    """`pattern` per session: P present, A absent, E excused, - not ticked."""
    letters = {"P": "present", "A": "absent", "E": "excused"}
    for session, letter in zip(seminar.sessions, pattern):
        if letter != "-":
            attendance.record(session, registration, letters[letter], now=session.starts_at)


@pytest.fixture
def coordinator_client(app, client):
    with app.app_context():
        create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                    password=PASSWORD)
        db.session.commit()
    response = client.post("/admin/login", data={"email": "koordination@stadt.example", "password": PASSWORD,
                                                  "csrf_token": csrf_token(client, "/admin/login")})
    assert response.status_code == 302
    return client


# --- completed ---------------------------------------------------------------------------------

def test_completed_means_every_scheduled_session_by_default(app_ctx):
    seminar = held_seminar(30)
    everywhere, three, excused_once = (register(seminar) for _ in range(3))
    tick(seminar, everywhere, "PPPP")
    tick(seminar, three, "PPPA")
    tick(seminar, excused_once, "PPEP")

    assert app_ctx.config["BOOKING_COMPLETION_SHARE"] == 1.0
    assert attendance.completed(everywhere)
    assert not attendance.completed(three) and not attendance.completed(excused_once)
    assert attendance.completed_registrations(seminar) == [everywhere]
    assert attendance.sessions_attended(three) == seminar.sessions[:3]


def test_with_a_share_of_three_quarters_three_of_four_complete(app_ctx):
    app_ctx.config["BOOKING_COMPLETION_SHARE"] = 0.75
    seminar = held_seminar(30)
    four, three, two = (register(seminar, last_name=name) for name in ("Aydın", "Bayram", "Çelik"))
    tick(seminar, four, "PPPP")
    tick(seminar, three, "PAPP")
    tick(seminar, two, "PEPA")

    assert [attendance.completed(r) for r in (four, three, two)] == [True, True, False]
    assert attendance.completed_registrations(seminar) == [four, three]


def test_a_cancelled_session_does_not_count_and_a_share_rounds_up(app_ctx):
    app_ctx.config["BOOKING_COMPLETION_SHARE"] = 0.75
    seminar = held_seminar(30)
    person = register(seminar)
    tick(seminar, person, "PP--")
    seminar.sessions[3].status = SessionStatus.CANCELLED  # three sessions left: 0.75 of 3 is 2.25, so 3
    db.session.flush()
    assert attendance.sessions_required(seminar) == 3 and not attendance.completed(person)
    tick(seminar, person, "--P-")
    assert attendance.completed(person)


def test_a_cancelled_registration_has_not_completed(app_ctx):
    app_ctx.config["BOOKING_COMPLETION_SHARE"] = 0.75
    seminar = held_seminar(21, sessions=4)  # the last session is still to come
    person = register(seminar)
    tick(seminar, person, "PPP-")
    assert attendance.completed(person)
    registrations.cancel_registration(person)
    with pytest.raises(attendance.AttendanceRefused):
        tick(seminar, person, "---P")  # no longer on the list of a session they were not ticked at
    tick(seminar, person, "PPE-")  # where they were ticked, a tick can still be corrected
    assert not attendance.completed(person) and attendance.completed_registrations(seminar) == []


# --- rates -------------------------------------------------------------------------------------

def test_rates_per_session_and_per_seminar_on_the_seminar_page(app, coordinator_client):
    with app.app_context():
        seminar = held_seminar(10, capacity=4)  # two sessions held, two to come
        people = [register(seminar, last_name=name) for name in ("Aydın", "Bayram", "Çelik", "Demir")]
        for person, pattern in zip(people, ("PP", "PA", "PE", "A-")):
            tick(seminar, person, pattern)
        db.session.commit()
        summary = attendance.seminar_attendance(seminar)
        assert [roll.rate for roll in summary.rolls] == [0.75, 0.25, 0.0, 0.0]
        assert [roll.unticked for roll in summary.rolls] == [0, 1, 4, 4]
        assert len(summary.held) == 2 and summary.rate == 4 / 8
        seminar_id, session_ids = seminar.id, [s.id for s in seminar.sessions]

    page = coordinator_client.get(f"/admin/seminars/{seminar_id}").get_data(as_text=True)
    section = re.search(r'<section aria-labelledby="attendance-title">.*?</section>', page, re.S).group(0)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert "Attendance rate of the seminar: 50% of the participants at the sessions held." in text
    assert "Completed: 0 of 4 participants (present at 4 of 4 sessions)." in text
    assert "3 of 4 (absent 1, excused 0) 75%" in text
    assert "1 of 4 (absent 1, excused 1) 25%" in text
    assert text.count("0 of 4 –") == 2  # sessions still to come have no rate yet
    for session_id in session_ids:
        assert f'href="/admin/seminars/{seminar_id}/sessions/{session_id}/attendance"' in section


# --- no-shows ------------------------------------------------------------------------------------

def registration_pages(client, registration_id, seminar_id):
    return (client.get(f"/admin/seminars/{seminar_id}/registrations").get_data(as_text=True),
            client.get(f"/admin/registrations/{registration_id}").get_data(as_text=True))


def test_the_no_show_mark_appears_at_two_unexcused_absences_and_not_at_one(app, coordinator_client):
    with app.app_context():
        spring = held_seminar(200, sessions=2)
        autumn = held_seminar(60, sessions=2)
        coming = make_seminar()
        # "Leyla@Example.net" and "leyla@example.net" are one person (the registrations' email key)
        tick(spring, register(spring, email="Leyla@Example.net"), "AE")
        tick(spring, register(spring, email="omar@example.net"), "EE")
        tick(autumn, register(autumn, email="omar@example.net"), "PA")
        leyla_now = registrations.register(coming, make_applicant(email="leyla@example.net"), None)
        omar_now = registrations.register(coming, make_applicant(email="omar@example.net"), None)
        db.session.commit()
        ids = {"coming": coming.id, "leyla": leyla_now.id, "omar": omar_now.id,
               "autumn_second": autumn.sessions[1].id}
        assert attendance.no_show_count("leyla@example.net", now() - timedelta(days=365)) == 1
        assert attendance.no_show_count("omar@example.net", now() - timedelta(days=365)) == 1

    mark = "unexcused absences in the last 12 months"
    listing, detail = registration_pages(coordinator_client, ids["leyla"], ids["coming"])
    assert "unexcused absence" not in listing and "unexcused absence" not in detail  # one is not marked

    with app.app_context():
        leyla_autumn = register(db.session.get(type(autumn), autumn.id), email="LEYLA@example.net")
        tick(leyla_autumn.seminar, leyla_autumn, "-A")
        db.session.commit()

    listing, detail = registration_pages(coordinator_client, ids["leyla"], ids["coming"])
    leyla_row, = [row for row in re.findall(r"<tr class=.*?</tr>", listing, re.S) if "leyla@example.net" in row]
    assert f"2 {mark}" in leyla_row
    assert listing.count(mark) == 1  # Omar's excused absences do not count
    assert f"2 {mark}" in detail and "the office decides" in detail
    omar_detail = coordinator_client.get(f"/admin/registrations/{ids['omar']}").get_data(as_text=True)
    assert mark not in omar_detail
    # marked, not barred: Leyla still has her place
    assert "Has a place." in detail


def test_absences_older_than_twelve_months_cancelled_sessions_and_anonymised_people_do_not_count(app_ctx):
    old = held_seminar(400, sessions=2)
    recent = held_seminar(100, sessions=3)
    tick(old, register(old, email="ali@example.net"), "AA")
    tick(recent, register(recent, email="ali@example.net"), "AAA")
    recent.sessions[2].status = SessionStatus.CANCELLED
    db.session.flush()
    since = now() - timedelta(days=365)
    assert attendance.no_show_count("ali@example.net", since) == 2
    coming = make_seminar()
    ali = registrations.register(coming, make_applicant(email="ali@example.net"), None)
    assert attendance.no_show_marks([ali]) == {ali.id: 2}

    for registration in db.session.scalars(db.select(type(ali)).where(type(ali).seminar_id == recent.id)):
        anonymise_registration(registration)
    assert attendance.no_show_count("ali@example.net", since) == 0
    assert attendance.no_show_marks([ali]) == {}
    # the anonymised registration keeps its ticks: they still count for the rates
    assert attendance.seminar_attendance(recent).held[0].absent == 1
