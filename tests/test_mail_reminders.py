"""Reminders before each session, with a controllable clock."""
from datetime import timedelta

import pytest

from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, MessageStatus, OutboxMessage
from booking.mail.reminders import parse_offsets, schedule_reminders
from booking.registrations import services
from booking.seminars import scheduling

from tests.factories import make_registration, make_seminar, now


def reminders():
    return list(db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.REMINDER).order_by(OutboxMessage.id)))


@pytest.fixture
def seminar_in_a_week(app_ctx):
    start = now().replace(microsecond=0) + timedelta(days=7)
    return make_seminar(sessions=[(start, start + timedelta(hours=2)),
                                  (start + timedelta(days=7), start + timedelta(days=7, hours=2))])


def test_due_reminders_are_sent_once_per_offset(seminar_in_a_week, smtp_server):
    registration = make_registration(seminar_in_a_week, email="r@example.net")
    db.session.commit()
    dispatch_pending()
    first = seminar_in_a_week.sessions[0]

    assert schedule_reminders(first.starts_at - timedelta(hours=49)) == 0
    moment = first.starts_at - timedelta(hours=47, minutes=30)
    assert schedule_reminders(moment) == 1
    assert schedule_reminders(moment + timedelta(minutes=10)) == 0  # never twice
    db.session.commit()
    assert dispatch_pending(moment).sent == 1
    reminder = smtp_server.messages[-1]
    assert reminder["Subject"].startswith("Reminder:")
    text = reminder.get_body(("plain",)).get_content()
    assert "openstreetmap.org" in text
    assert f"/registrations/{services.manage_token(registration)}" in text
    assert "Can't come?" in text

    three_hours = first.starts_at - timedelta(hours=2, minutes=50)
    assert schedule_reminders(three_hours) == 1
    db.session.commit()
    assert dispatch_pending(three_hours).sent == 1
    assert [r.facts["offset_minutes"] for r in reminders()] == [2880, 180]


def test_missed_reminders_are_skipped_not_sent_late(seminar_in_a_week):
    make_registration(seminar_in_a_week)
    first = seminar_in_a_week.sessions[0]
    # the worker was down from before the 48h moment until 30 hours before the session
    assert schedule_reminders(first.starts_at - timedelta(hours=30)) == 0
    # ... and until after the session started: nothing at all
    assert schedule_reminders(first.starts_at + timedelta(minutes=5)) == 0
    assert reminders() == []


def test_cancelled_sessions_and_registrations_get_no_reminder(seminar_in_a_week):
    cancelled_registration = make_registration(seminar_in_a_week)
    make_registration(seminar_in_a_week, email="stays@example.net")
    services.cancel_registration(cancelled_registration)
    first, second = seminar_in_a_week.sessions
    scheduling.cancel_session(first, reason="Trainer ill")
    db.session.commit()
    assert schedule_reminders(first.starts_at - timedelta(hours=47)) == 0
    assert schedule_reminders(second.starts_at - timedelta(hours=47)) == 1
    assert [r.recipient for r in reminders()] == ["stays@example.net"]


def test_reminder_recorded_then_session_cancelled_is_skipped(seminar_in_a_week, smtp_server):
    make_registration(seminar_in_a_week)
    first = seminar_in_a_week.sessions[0]
    moment = first.starts_at - timedelta(hours=47)
    schedule_reminders(moment)
    scheduling.cancel_session(first)
    db.session.commit()
    dispatch_pending(moment)
    reminder = reminders()[0]
    assert reminder.status == MessageStatus.SKIPPED
    assert not any(m["Subject"].startswith("Reminder:") for m in smtp_server.messages)


def test_no_reminder_for_a_moment_before_the_place_was_given(app_ctx):
    start = now().replace(microsecond=0) + timedelta(hours=40)
    seminar = make_seminar(sessions=[(start, start + timedelta(hours=2))])
    make_registration(seminar)  # confirmed 40 hours before: the 48h moment lies before that
    assert schedule_reminders(start - timedelta(hours=39)) == 0


def test_offsets_are_configurable(app, app_ctx):
    assert parse_offsets("48h,3h") == [timedelta(hours=48), timedelta(hours=3)]
    assert parse_offsets(" 2d , 90m ") == [timedelta(days=2), timedelta(minutes=90)]
    with pytest.raises(ValueError):
        parse_offsets("soon")
    app.config["BOOKING_REMINDER_OFFSETS"] = "1d"
    start = now().replace(microsecond=0) + timedelta(days=3)
    seminar = make_seminar(sessions=[(start, start + timedelta(hours=2))])
    make_registration(seminar)
    assert schedule_reminders(start - timedelta(hours=47)) == 0
    assert schedule_reminders(start - timedelta(hours=23)) == 1


def test_a_reminder_pass_runs_the_same_statements_for_2_or_12_due(seminar_in_a_week):
    """Loaded once, recorded in one INSERT: nothing row by row, so the pass grows with the due
    reminders only in the rows it moves (issue #19: < 50 ms at city scale)."""
    from sqlalchemy import event

    from booking.associations import services as associations
    from booking.associations.services import ContactDetails

    from tests.factories import make_applicant

    def group(size: int):
        associations.register_group(
            seminar_in_a_week, ContactDetails("Samira", "Haddad", f"samira{size}@verein.example"),
            [make_applicant(first_name=f"Abebe{size}-{n}", email=None) for n in range(size)], None)

    seminar_in_a_week.capacity = 100  # every one gets a place
    first = seminar_in_a_week.sessions[0]
    moment = first.starts_at - timedelta(hours=47, minutes=30)
    statements = []

    def count(connection, cursor, statement, *args):
        if statement not in ("BEGIN", "BEGIN IMMEDIATE", "SAVEPOINT", "RELEASE SAVEPOINT"):
            statements.append(statement)

    def one_pass() -> tuple[int, int]:
        del statements[:]
        event.listen(db.engine, "before_cursor_execute", count)
        recorded = schedule_reminders(moment)
        event.remove(db.engine, "before_cursor_execute", count)
        db.session.rollback()
        return recorded, len(statements)

    make_registration(seminar_in_a_week, email="one@example.net")
    group(1)
    db.session.commit()
    few = one_pass()
    for n in range(10):
        make_registration(seminar_in_a_week, email=f"more{n}@example.net")
    group(3)
    db.session.commit()
    many = one_pass()

    assert few[0] == 2 and many[0] == 13  # one each, and one per contact naming their members
    assert many[1] == few[1]
    assert schedule_reminders(moment) == 13 and schedule_reminders(moment) == 0  # recorded once


def test_a_reminder_pass_records_exactly_these_rows_and_leaves_earlier_ones_alone(seminar_in_a_week):
    """What one pass writes, column by column (on PostgreSQL the rows reach the database as one
    JSON document: nothing of a row may change on the way), and a second pass after a new place
    adds that place's reminder only."""
    from booking.associations import services as associations
    from booking.associations.services import ContactDetails

    from tests.factories import make_applicant

    own = make_registration(seminar_in_a_week, email="own@example.net")
    members = associations.register_group(
        seminar_in_a_week, ContactDetails("Samira", "Haddad", "samira@verein.example"),
        [make_applicant(first_name="Abebe", email=None), make_applicant(first_name="Tigist", email=None)], None)
    contact = members[0].registered_by
    db.session.commit()
    first = seminar_in_a_week.sessions[0]
    moment = first.starts_at - timedelta(hours=47, minutes=30)
    before = now()

    assert schedule_reminders(moment) == 2
    db.session.commit()
    after = now()
    mine, theirs = sorted(db.session.scalars(db.select(OutboxMessage).where(
        OutboxMessage.session_id == first.id,
        OutboxMessage.kind.in_((MessageKind.REMINDER, MessageKind.MEMBERS_UPDATE)))),
        key=lambda message: message.kind != MessageKind.REMINDER)
    assert (mine.dedupe_key, mine.kind, mine.registration_id, mine.contact_id, mine.user_id, mine.revision,
            mine.recipient, mine.facts) == (
        f"reminder:{own.id}:{first.id}:{first.revision}:2880m", MessageKind.REMINDER, own.id, None, None,
        first.revision, "own@example.net", {"offset_minutes": 2880})
    assert (theirs.dedupe_key, theirs.kind, theirs.registration_id, theirs.contact_id, theirs.user_id,
            theirs.revision, theirs.recipient, theirs.facts) == (
        f"members_update:reminder:contact{contact.id}:session{first.id}:{first.revision}:2880m",
        MessageKind.MEMBERS_UPDATE, None, contact.id, None, first.revision, "samira@verein.example",
        {"about": "reminder", "seminar_id": seminar_in_a_week.id,
         "registration_ids": [member.id for member in members], "offset_minutes": 2880})
    for message in (mine, theirs):
        assert (message.status, message.attempts, message.claimed_until, message.sent_at, message.subject) == (
            MessageStatus.PENDING, 0, None, None, None)
        assert before <= message.next_attempt_at <= after and before <= message.created_at <= after
        assert message.next_attempt_at.tzinfo is not None

    late = make_registration(seminar_in_a_week, email="late@example.net")
    db.session.commit()
    assert schedule_reminders(moment + timedelta(minutes=1)) == 1
    db.session.commit()
    assert [(r.registration_id, r.recipient) for r in reminders()] == [
        (own.id, "own@example.net"), (late.id, "late@example.net")]
    assert reminders()[0].id == mine.id
