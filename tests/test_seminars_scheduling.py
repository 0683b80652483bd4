"""Announced changes: moving and cancelling sessions, cancelling a seminar; calendars follow."""
from datetime import timedelta

import pytest

from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, OutboxMessage
from booking.registrations.services import manage_token
from booking.seminars import scheduling
from booking.seminars.models import SeminarStatus, SessionStatus

from tests.factories import make_registration, make_seminar
from tests.test_mail_dispatch import calendar_part, calendar_text, ics_value


def test_cancelling_a_session_sends_cancel_to_everyone_on_it(app_ctx, smtp_server):
    seminar = make_seminar(sessions=2, capacity=5)
    for i in range(3):
        make_registration(seminar, email=f"p{i}@example.net")
    make_registration(make_seminar(), email="other@example.net")
    db.session.commit()
    dispatch_pending()
    before = len(smtp_server.messages)
    session = seminar.sessions[1]

    assert scheduling.cancel_session(session, reason="Raum nicht verfügbar") == 3
    db.session.commit()
    dispatch_pending()

    new = smtp_server.messages[before:]
    assert sorted(m["To"] for m in new) == ["p0@example.net", "p1@example.net", "p2@example.net"]
    for message in new:
        body = calendar_text(message)
        assert ics_value(body, "METHOD") == "CANCEL"
        assert ics_value(body, "SEQUENCE") == "1"
        assert "Raum nicht verfügbar" in message.get_body(("plain",)).get_content()
    assert session.status == SessionStatus.CANCELLED and session.revision == 1
    with pytest.raises(scheduling.ScheduleChangeRefused):
        scheduling.cancel_session(session)


def test_cancelling_the_seminar_tells_everyone_why_and_cancels_every_session(app_ctx, smtp_server):
    seminar = make_seminar(sessions=3, capacity=1)
    make_registration(seminar, email="place@example.net")
    make_registration(seminar, email="waiting@example.net")
    db.session.commit()
    dispatch_pending()
    before = len(smtp_server.messages)

    assert scheduling.cancel_seminar(seminar, reason="Zu wenige Anmeldungen") == 2
    db.session.commit()
    dispatch_pending()

    new = smtp_server.messages[before:]
    to_place = [m for m in new if m["To"] == "place@example.net"]
    to_waiting = [m for m in new if m["To"] == "waiting@example.net"]
    assert len(to_place) == 4 and len(to_waiting) == 1
    assert sum(calendar_part(m) is not None for m in to_place) == 3
    assert all("Zu wenige Anmeldungen" in m.get_body(("plain",)).get_content() for m in new)
    assert calendar_part(to_waiting[0]) is None
    assert seminar.status == SeminarStatus.CANCELLED
    assert all(s.status == SessionStatus.CANCELLED for s in seminar.sessions)


def test_changing_nothing_sends_nothing(app_ctx):
    seminar = make_seminar(sessions=1)
    make_registration(seminar)
    session = seminar.sessions[0]
    assert scheduling.change_session(session, starts_at=session.starts_at) == 0
    assert session.revision == 0
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))
                             .where(OutboxMessage.kind == MessageKind.INVITATION)) == 1


def test_end_before_start_is_refused(app_ctx):
    session = make_seminar(sessions=1).sessions[0]
    with pytest.raises(scheduling.ScheduleChangeRefused):
        scheduling.change_session(session, ends_at=session.starts_at - timedelta(hours=1))
    assert session.revision == 0


def test_move_session_command(app, app_ctx):
    seminar = make_seminar(sessions=1)
    make_registration(seminar)
    db.session.commit()
    session_id = seminar.sessions[0].id
    runner = app.test_cli_runner()
    result = runner.invoke(args=["booking", "move-session", str(session_id), "--start", "2031-05-06 18:00",
                                 "--end", "2031-05-06 20:30"])
    assert result.exit_code == 0, result.output
    assert "updates queued for 1 participants" in result.output
    db.session.expire_all()
    session = seminar.sessions[0]
    assert session.revision == 1
    assert session.starts_at.isoformat() == "2031-05-06T16:00:00+00:00"  # 18:00 in Berlin summer time
    bad = runner.invoke(args=["booking", "move-session", str(session_id), "--start", "tomorrow"])
    assert bad.exit_code != 0 and "YYYY-MM-DD HH:MM" in bad.output
    missing = runner.invoke(args=["booking", "move-session", "99999", "--start", "2031-05-06 18:00"])
    assert missing.exit_code != 0 and "no session 99999" in missing.output


def test_manage_page_of_a_cancelled_seminar_says_so(app_ctx, client):
    seminar = make_seminar(sessions=2)
    registration = make_registration(seminar)
    scheduling.cancel_seminar(seminar, reason="Krankheit")
    db.session.commit()
    page = client.get(f"/registrations/{manage_token(registration)}").get_data(as_text=True)
    assert "This seminar has been cancelled" in page
    assert "You have a place" not in page
    assert "Cancel my registration" not in page


def test_sessions_command_lists_the_ids_to_move(app, app_ctx):
    seminar = make_seminar(slug="kasse", sessions=2, title="Vereinskasse")
    scheduling.cancel_session(seminar.sessions[1])
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["booking", "sessions", "kasse"])
    assert result.exit_code == 0, result.output
    assert "kasse [published] Vereinskasse" in result.output
    first, second = seminar.sessions
    assert f"session {first.id} " in result.output and "scheduled" in result.output
    assert f"session {second.id} " in result.output and "cancelled revision 1" in result.output
    missing = runner.invoke(args=["booking", "sessions", "nope"])
    assert missing.exit_code != 0 and "no seminar 'nope'" in missing.output
