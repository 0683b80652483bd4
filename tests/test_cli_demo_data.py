"""`flask booking seed-demo`: realistic demo data, made through the registration rules, loaded once.

These tests only read what one load stored: they share one seeded database (a load takes seconds).
Loading twice, into a database with data of its own, and the help: tests/test_cli_demo.py (a
database of their own each; on PostgreSQL that module's tables are dropped after each test, so
the shared database lives in a module of its own).
"""
from __future__ import annotations

from collections import Counter
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking import demo
from booking.associations.models import Association
from booking.extensions import db
from booking.registrations.models import Registration, RegistrationStatus, WaitlistReason
from booking.seminars.models import Seminar, SeminarStatus, Session, Topic
from booking.seminars.services import upcoming_catalogue
from tests.browser import app_for_module
from tests.factories import now
from tests.test_cli_demo import seed, seminar, statuses


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The demo data loaded once, and what the command printed, for the tests that only read them."""
    with app_for_module(tmp_path_factory.mktemp("demo")) as app:
        yield app, seed(app)


def test_seed_demo_loads_topics_seminars_associations_and_registrations(seeded):
    app, result = seeded
    assert result.exit_code == 0, result.output
    assert "Seminar: Vereinsgründung Schritt für Schritt" in result.output
    assert f"Done: {len(demo.SEMINARS)} seminars, 10 associations" in result.output
    with app.app_context():
        assert {t.slug: t.name for t in db.session.scalars(db.select(Topic))} == {
            "organisation": "Organisation",
            "vereinsrecht": "Vereinsrecht",
            "oeffentlichkeitsarbeit": "Öffentlichkeitsarbeit",
        }
        seminars = list(db.session.scalars(db.select(Seminar)))
        assert 7 <= len(seminars) <= 10
        assert {s.topic.slug for s in seminars} == {"organisation", "vereinsrecht", "oeffentlichkeitsarbeit"}
        associations = list(db.session.scalars(db.select(Association)))
        assert len(associations) == 10
        assert all(a.district and a.legal_form for a in associations)
        registrations = list(db.session.scalars(db.select(Registration)))
        assert {r.association_id for r in registrations} == {a.id for a in associations}
        for s in seminars:
            assert statuses(s)[RegistrationStatus.CONFIRMED] <= s.capacity
            assert 12 <= s.capacity <= 30
        assert sum(2 <= len(s.sessions) <= 4 for s in seminars) >= len(seminars) - 2
        assert {"de tr", "de ar", "de en"} <= {s.languages for s in seminars}


def test_sessions_are_evenings_or_saturdays_in_local_time_within_three_months(seeded):
    app, _ = seeded
    zone = ZoneInfo("Europe/Berlin")
    with app.app_context():
        sessions = list(db.session.scalars(db.select(Session)))
        for session in sessions:
            starts, ends = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
            assert starts.tzinfo is not None
            if starts.weekday() == 5:
                assert (starts.time(), ends.time()) == (time(10), time(15)), session
            else:
                assert starts.weekday() < 5
                assert (starts.time(), ends.time()) == (time(18), time(20, 30)), session
            assert session.ends_at < now() + timedelta(days=100)
        # one published seminar has begun: a session is over, later ones are still to come
        started = seminar(demo.STARTED_SLUG)
        assert started.sessions[0].ends_at < now() < started.sessions[-1].starts_at
        assert started.is_open(now())


def test_the_full_seminar_has_exactly_capacity_confirmed_and_a_waiting_list(seeded):
    app, _ = seeded
    with app.app_context():
        full = seminar(demo.FULL_SLUG)
        by_status = statuses(full)
        assert by_status[RegistrationStatus.CONFIRMED] == full.capacity
        assert by_status[RegistrationStatus.WAITLISTED] >= 2
        waiting = db.session.scalars(db.select(Registration).where(
            Registration.seminar_id == full.id, Registration.status == RegistrationStatus.WAITLISTED))
        assert {r.waitlist_reason for r in waiting} == {WaitlistReason.FULL}


def test_the_limited_seminar_respects_its_per_association_maximum(seeded):
    app, _ = seeded
    with app.app_context():
        limited = seminar(demo.ASSOCIATION_LIMIT_SLUG)
        assert limited.max_per_association == 2
        confirmed_per_association = Counter(db.session.scalars(db.select(Registration.association_id).where(
            Registration.seminar_id == limited.id, Registration.status == RegistrationStatus.CONFIRMED)))
        assert max(confirmed_per_association.values()) == 2
        held_back = list(db.session.scalars(db.select(Registration).where(
            Registration.seminar_id == limited.id, Registration.status == RegistrationStatus.WAITLISTED)))
        assert held_back, "the demo should show someone waiting because of the association maximum"
        assert {r.waitlist_reason for r in held_back} == {WaitlistReason.ASSOCIATION_LIMIT}
        assert all(confirmed_per_association[r.association_id] == 2 for r in held_back)
        assert statuses(limited)[RegistrationStatus.CONFIRMED] < limited.capacity


def test_the_draft_seminar_is_not_in_the_public_catalogue(seeded):
    app, _ = seeded
    with app.app_context():
        draft = seminar(demo.DRAFT_SLUG)
        assert draft.status == SeminarStatus.DRAFT
        assert statuses(draft) == Counter()
        listed = {entry.seminar.slug for month in upcoming_catalogue(now()) for entry in month.entries}
        assert demo.DRAFT_SLUG not in listed
        assert demo.FULL_SLUG in listed and demo.STARTED_SLUG in listed
        assert demo.PAST_SLUG not in listed  # over
        assert len(listed) == len(demo.SEMINARS) - 2


def test_a_seminar_in_the_past_has_attendance_ticked_and_certificates(seeded):
    from booking.attendance import services as attendance
    from booking.attendance.models import Attendance, AttendanceStatus

    app, _ = seeded
    with app.app_context():
        past = seminar(demo.PAST_SLUG)
        assert past.status == SeminarStatus.PUBLISHED and past.last_end < now()
        assert len(past.scheduled_sessions) == 3
        ticks = Counter(db.session.scalars(db.select(Attendance.status).join(Session).where(
            Session.seminar_id == past.id)))
        assert set(ticks) == {AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED}
        assert sum(ticks.values()) == 3 * statuses(past)[RegistrationStatus.CONFIRMED]
        holders = attendance.certificate_holders(past)
        assert 2 <= len(holders) < statuses(past)[RegistrationStatus.CONFIRMED]
        assert all(attendance.participant_may_download_certificate(r) for r in holders)
        # the person absent three times is marked on the lists of a seminar still to come
        started = seminar(demo.STARTED_SLUG)
        marks = attendance.no_show_marks(list(db.session.scalars(
            db.select(Registration).where(Registration.seminar_id == started.id))))
        assert list(marks.values()) == [3]
