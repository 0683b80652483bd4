"""The outbox and its dispatcher against a real SMTP server on loopback."""
import email
import email.policy
import mailbox
import smtplib
import threading
from datetime import timedelta

import vobject
from ical.calendar_stream import IcsCalendarStream

from booking.database import utcnow
from booking.extensions import db
from booking.mail.dispatcher import CLAIM_FOR, dispatch_pending
from booking.mail.models import MessageKind, MessageStatus, OutboxMessage
from booking.registrations import services
from booking.seminars import scheduling

from tests.factories import make_applicant, make_registration, make_seminar


def outbox(kind=None):
    query = db.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def calendar_part(message):
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part
    return None


def calendar_text(message):
    part = calendar_part(message)
    return part.get_payload(decode=True).decode() if part is not None else None


def ics_value(text, name):
    """The value of the first line of the property `name`, unfolded."""
    unfolded = text.replace("\r\n ", "")
    for line in unfolded.split("\r\n"):
        key, _, value = line.partition(":")
        if key.split(";")[0] == name:
            return value
    return None


def test_confirmed_registration_sends_confirmation_and_one_invitation_per_session(app_ctx, smtp_server, client):
    seminar = make_seminar(sessions=3, title="Vereinsrecht für Vorstände")
    registration = make_registration(seminar, first_name="Ayşe", last_name="Çelik", email="ayse@example.net")
    db.session.commit()
    assert [m.kind for m in outbox()] == [MessageKind.CONFIRMATION] + [MessageKind.INVITATION] * 3

    result = dispatch_pending()
    db.session.commit()

    assert result.sent == 4
    received = smtp_server.messages
    assert len(received) == 4
    assert all(m["To"] == "ayse@example.net" for m in received)
    confirmation = received[0]
    assert confirmation["Subject"] == "Your place: Vereinsrecht für Vorstände"
    text = confirmation.get_body(("plain",)).get_content()
    assert "Hello Ayşe Çelik" in text
    manage_url = services.manage_token(registration)
    assert f"/registrations/{manage_url}" in text
    assert calendar_part(confirmation) is None
    uids = set()
    for invitation in received[1:]:
        part = calendar_part(invitation)
        assert part.get_params()[1:] == [("charset", "utf-8"), ("method", "REQUEST")]
        body = calendar_text(invitation)
        assert ics_value(body, "METHOD") == "REQUEST"
        assert ics_value(body, "ATTENDEE") == "mailto:ayse@example.net"
        assert ics_value(body, "ORGANIZER") == "mailto:" + app_ctx.config["BOOKING_MAIL_SENDER"]
        assert app_ctx.config["BOOKING_MAIL_SENDER"] in invitation["From"]
        # what arrived over the wire parses in two independent parsers
        parsed = IcsCalendarStream.calendar_from_ics(body)
        assert parsed.events[0].summary == "Vereinsrecht für Vorstände"
        assert vobject.readOne(body, validate=True).vevent.attendee.params["CN"] == ["Ayşe Çelik"]
        uids.add(ics_value(body, "UID"))
    assert len(uids) == 3
    assert all(m.status == MessageStatus.SENT and m.body_text and m.attempts == 1 for m in outbox())
    # the link in the email opens the participant's page
    assert client.get(f"/registrations/{manage_url}").status_code == 200

    assert dispatch_pending().handled == 0
    assert len(smtp_server.messages) == 4


def test_waitlisted_gets_position_and_no_invitation(app_ctx, smtp_server):
    seminar = make_seminar(capacity=1)
    make_registration(seminar)
    make_registration(seminar, email="wait@example.net")
    db.session.commit()
    dispatch_pending()
    waiting = [m for m in smtp_server.messages if m["To"] == "wait@example.net"]
    assert len(waiting) == 1
    assert "Your position on the waiting list: 1" in waiting[0].get_body(("plain",)).get_content()
    assert calendar_part(waiting[0]) is None


def test_mail_server_down_then_back_delivers_exactly_once(app_ctx, smtp_server):
    smtp_server.stop()
    registration = make_registration(make_seminar(sessions=1))
    db.session.commit()
    assert registration.status == "confirmed"  # registering does not need the mail server

    first = dispatch_pending()
    db.session.commit()
    assert first.retried == 2 and first.sent == 0
    pending = outbox()
    assert all(m.status == MessageStatus.PENDING and "unreachable" in m.last_error for m in pending)
    assert all(m.next_attempt_at > utcnow() for m in pending)
    assert dispatch_pending().handled == 0  # not due yet

    # a day-long outage, a worker pass every half hour: nothing is given up
    for half_hours in range(1, 49):
        assert dispatch_pending(utcnow() + timedelta(minutes=30 * half_hours)).failed == 0
    assert {m.status for m in outbox()} == {MessageStatus.PENDING}

    smtp_server.start()
    later = utcnow() + timedelta(hours=25)
    assert dispatch_pending(later).sent == 2
    assert dispatch_pending(later + timedelta(hours=1)).handled == 0
    assert len(smtp_server.messages) == 2
    assert all(m.attempts == 1 and m.attempt_log[-1].outcome == "sent" for m in outbox())


def test_temporary_answer_is_retried_and_permanent_answer_fails(app_ctx, smtp_server, app):
    registration = make_registration(make_seminar(sessions=1), email="nobody@example.net")
    db.session.commit()
    smtp_server.handler.rcpt_reply = "451 4.3.0 Mailbox busy, try later"
    assert dispatch_pending().retried == 2
    assert all("451" in m.last_error for m in outbox())

    smtp_server.handler.rcpt_reply = "550 5.1.1 No such user here"
    result = dispatch_pending(utcnow() + timedelta(minutes=5))
    db.session.commit()
    assert result.failed == 2
    failed = outbox()
    assert all(m.status == MessageStatus.FAILED and "550 5.1.1 No such user here" in m.last_error for m in failed)
    assert dispatch_pending(utcnow() + timedelta(days=1)).handled == 0

    # visible in the email log, and a coordinator can send it again
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["booking", "outbox", "--status", "failed"])
    assert listing.exit_code == 0
    assert "nobody@example.net" in listing.output and "550 5.1.1 No such user here" in listing.output
    smtp_server.handler.rcpt_reply = None
    assert runner.invoke(args=["booking", "outbox", "--retry", str(failed[0].id)]).exit_code == 0
    db.session.expire_all()
    assert dispatch_pending().sent == 1
    assert registration.status == "confirmed"


def test_moving_a_session_sends_an_update_with_same_uid_and_higher_sequence(app_ctx, smtp_server):
    seminar = make_seminar(sessions=1)
    make_registration(seminar, email="p@example.net")
    db.session.commit()
    dispatch_pending()
    first_invitation = calendar_text(smtp_server.messages[1])

    session = seminar.sessions[0]
    old_start = session.starts_at
    scheduling.change_session(session, starts_at=old_start + timedelta(days=1), ends_at=session.ends_at + timedelta(days=1),
                              venue_name="Stadtbibliothek Offenbach", venue_address="Herrnstraße 84, 63065 Offenbach")
    db.session.commit()
    dispatch_pending()

    update = smtp_server.messages[2]
    assert update["Subject"].startswith("Changed:")
    body = calendar_text(update)
    assert ics_value(body, "UID") == ics_value(first_invitation, "UID")
    assert int(ics_value(body, "SEQUENCE")) > int(ics_value(first_invitation, "SEQUENCE"))
    text = update.get_body(("plain",)).get_content()
    assert "→" in text and "Stadtbibliothek Offenbach" in text and "Haus der Vereine" in text


def test_an_unsent_invitation_superseded_by_an_update_is_skipped(app_ctx, smtp_server):
    seminar = make_seminar(sessions=1)
    make_registration(seminar)
    session = seminar.sessions[0]
    scheduling.change_session(session, starts_at=session.starts_at + timedelta(hours=1),
                              ends_at=session.ends_at + timedelta(hours=1))
    db.session.commit()
    result = dispatch_pending()
    assert result.skipped == 1 and result.sent == 2
    calendars = [calendar_text(m) for m in smtp_server.messages if calendar_part(m) is not None]
    assert len(calendars) == 1 and ics_value(calendars[0], "SEQUENCE") == "1"
    skipped = outbox(MessageKind.INVITATION)[0]
    assert skipped.status == MessageStatus.SKIPPED and "superseded" in skipped.skip_reason


def test_participant_cancelling_sends_cancel_for_each_session_and_promotes(app_ctx, smtp_server):
    seminar = make_seminar(capacity=1, sessions=2)
    holder = make_registration(seminar, email="holder@example.net")
    waiting = make_registration(seminar, email="waiting@example.net")
    db.session.commit()
    dispatch_pending()
    sent_before = len(smtp_server.messages)

    services.cancel_registration(holder)
    db.session.commit()
    dispatch_pending()

    new = smtp_server.messages[sent_before:]
    to_holder = [m for m in new if m["To"] == "holder@example.net"]
    cancels = [calendar_text(m) for m in to_holder if calendar_part(m) is not None]
    assert len(cancels) == 2
    assert all(ics_value(c, "METHOD") == "CANCEL" and ics_value(c, "STATUS") == "CANCELLED" for c in cancels)
    assert all(calendar_part(m).get_param("method") == "CANCEL" for m in to_holder if calendar_part(m) is not None)
    assert any(m["Subject"].startswith("Your registration is cancelled") for m in to_holder)
    to_waiting = [m for m in new if m["To"] == "waiting@example.net"]
    assert to_waiting[0]["Subject"].startswith("You now have a place")
    assert sum(calendar_part(m) is not None for m in to_waiting) == 2
    assert waiting.status == "confirmed"


def test_cancelling_before_anything_went_out_sends_no_calendar_at_all(app_ctx, smtp_server):
    registration = make_registration(make_seminar(sessions=2))
    services.cancel_registration(registration)
    db.session.commit()
    result = dispatch_pending()
    assert result.sent == 1  # only the cancellation notice
    assert smtp_server.messages[0]["Subject"].startswith("Your registration is cancelled")
    assert all(calendar_part(m) is None for m in smtp_server.messages)


def test_worker_stopped_mid_batch_loses_nothing_and_sends_nothing_twice(app_ctx, smtp_server):
    seminar = make_seminar(sessions=3)
    make_registration(seminar)
    db.session.commit()
    now = utcnow()
    assert dispatch_pending(now, stop_after=1).sent == 1
    # the stopped worker's claim still holds: nobody else takes its rows yet
    assert dispatch_pending(now + timedelta(seconds=1)).handled == 0
    # after the claim ran out, a new worker delivers the rest
    assert dispatch_pending(now + CLAIM_FOR + timedelta(seconds=1)).sent == 3
    assert len(smtp_server.messages) == 4
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 4


def test_concurrent_workers_never_send_a_message_twice(app, smtp_server):
    with app.app_context():
        seminar = make_seminar(sessions=4, capacity=30)
        services.register_people(seminar, [make_applicant() for _ in range(10)], None)
        db.session.commit()
        total = len(outbox())
    assert total == 50

    errors = []
    barrier = threading.Barrier(3)

    def worker():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                while dispatch_pending(limit=7).handled:
                    pass
                db.session.remove()
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == total and len(set(ids)) == total
    with app.app_context():
        assert all(m.status == MessageStatus.SENT for m in outbox())


def test_without_mail_server_messages_are_logged_and_kept(app_ctx, tmp_path):
    app_ctx.config["BOOKING_MAIL_LOG"] = str(tmp_path / "sent.mbox")
    make_registration(make_seminar(sessions=1), email="log@example.net")
    db.session.commit()
    result = dispatch_pending()
    assert result.sent == 2
    box = mailbox.mbox(tmp_path / "sent.mbox")
    logged = [email.message_from_bytes(box.get_bytes(key), policy=email.policy.default) for key in box.keys()]
    box.close()
    assert [m["To"] for m in logged] == ["log@example.net"] * 2
    assert calendar_part(logged[1]).get_param("method") == "REQUEST"
    for message in outbox():
        assert message.status == MessageStatus.SENT
        assert message.subject and message.body_text and message.body_html
        assert "no MAIL_SERVER" in message.attempt_log[0].detail
    assert outbox(MessageKind.INVITATION)[0].calendar.startswith("BEGIN:VCALENDAR")


def test_an_unreachable_server_is_tried_once_per_pass(app_ctx, smtp_server, monkeypatch):
    smtp_server.stop()
    make_registration(make_seminar(sessions=3))
    db.session.commit()
    connects = []
    original = smtplib.SMTP.connect

    def counting_connect(self, *args, **kwargs):
        connects.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", counting_connect)
    result = dispatch_pending()
    assert result.retried == 4
    assert len(connects) == 1
    assert all("ConnectionRefusedError" in m.last_error for m in outbox())
    assert all(m.attempts == 0 for m in outbox())


def test_worker_once_drains_a_backlog_larger_than_one_batch(app, app_ctx):
    seminar = make_seminar(sessions=4, capacity=40)
    services.register_people(seminar, [make_applicant() for _ in range(30)], None)
    db.session.commit()
    assert len(outbox()) == 150
    result = app.test_cli_runner().invoke(args=["booking", "worker", "--once"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert {m.status for m in outbox()} == {MessageStatus.SENT}


def test_a_chunk_of_messages_is_stored_and_recorded_with_the_same_statements_for_4_or_20(app_ctx, smtp_server):
    """Writing is per chunk, not per message: the statements of a pass (outside rendering) do not grow
    with the number of emails in it, and every one of them arrives once."""
    from sqlalchemy import event

    def statements_of_a_pass(people: int) -> tuple[int, int]:
        seminar = make_seminar(sessions=1, capacity=40)  # a confirmation and an invitation each
        services.register_people(seminar, [make_applicant() for _ in range(people)], None)
        db.session.commit()
        writes = []

        def count(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(("UPDATE", "INSERT")):
                writes.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            result = dispatch_pending()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return result.sent, len(writes)

    # claim; store the rendered emails; record the outcomes and their delivery attempts
    assert statements_of_a_pass(2) == (4, 4)
    assert statements_of_a_pass(10) == (20, 4)
    assert len({m["Message-ID"] for m in smtp_server.messages}) == len(smtp_server.messages) == 24
    assert {m.status for m in outbox()} == {MessageStatus.SENT}
