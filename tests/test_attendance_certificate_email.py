"""Once a seminar is over, whoever completed it gets one email saying their certificate is ready,
with the personal link where it downloads; recorded by the worker's pass, sent once."""
from __future__ import annotations

from datetime import timedelta

from booking.attendance import services as attendance
from booking.extensions import db
from booking.mail.dispatcher import run_worker
from booking.mail.models import MessageKind, MessageStatus, OutboxMessage
from booking.registrations import services as registrations

from tests.factories import make_applicant, make_seminar, now


def certificate_rows():
    return list(db.session.scalars(db.select(OutboxMessage).where(
        OutboxMessage.kind == MessageKind.CERTIFICATE_READY).order_by(OutboxMessage.id)))


def seminar_ending_at(end):
    first = end - timedelta(days=7, hours=2)
    return make_seminar(sessions=[(first, first + timedelta(hours=2)), (end - timedelta(hours=2), end)])


def register(seminar, **person):
    return registrations.register(seminar, make_applicant(**person), None,
                                  now=seminar.sessions[0].starts_at - timedelta(days=1))


def tick(seminar, registration, pattern):
    for session, letter in zip(seminar.sessions, pattern):
        attendance.record(session, registration, {"P": "present", "A": "absent"}[letter], now=session.starts_at)


def test_the_worker_tells_each_completer_once_after_the_last_session(app_ctx, smtp_server):
    end = now().replace(microsecond=0) + timedelta(hours=1)
    seminar = seminar_ending_at(end)
    done = register(seminar, first_name="Şule", last_name="Çağlar", email="sule@example.net")
    missed = register(seminar, first_name="Omar", last_name="Haddad", email="omar@example.net")
    tick(seminar, done, "PP")
    tick(seminar, missed, "PA")
    db.session.commit()
    done_id, token = done.id, registrations.manage_token(done)  # the worker ends the session

    run_worker(once=True, echo=lambda line: None, now=end - timedelta(minutes=1))  # not over yet
    assert certificate_rows() == []

    after = end + timedelta(minutes=5)
    run_worker(once=True, echo=lambda line: None, now=after)
    [row] = certificate_rows()
    assert row.registration_id == done_id and row.status == MessageStatus.SENT
    [email] = [m for m in smtp_server.messages if m["To"] == "sule@example.net"
               and m["Subject"].startswith("Your certificate of attendance")]
    text = email.get_body(("plain",)).get_content()
    assert "Your certificate of attendance is ready." in text
    assert f"/registrations/{token}" in text
    assert "Can't come?" not in text
    assert not [m for m in smtp_server.messages if m["To"] == "omar@example.net"
                and "certificate" in m["Subject"]]

    run_worker(once=True, echo=lambda line: None, now=after + timedelta(days=1))
    assert len(certificate_rows()) == 1  # once
    assert len([m for m in smtp_server.messages if m["Subject"].startswith("Your certificate")]) == 1


def test_a_list_corrected_after_the_seminar_announces_the_certificate_at_once(app_ctx):
    end = now().replace(microsecond=0) - timedelta(days=3)
    seminar = seminar_ending_at(end)
    late = register(seminar, email="late@example.net")
    tick(seminar, late, "PA")
    db.session.commit()
    assert attendance.record_certificate_notices() == 0

    attendance.record(seminar.sessions[1], late, "present")  # the office corrects the list
    db.session.commit()
    [row] = certificate_rows()
    assert row.registration_id == late.id
    assert attendance.record_certificate_notices() == 0  # already recorded


def test_a_certificate_taken_back_before_sending_is_skipped(app_ctx, smtp_server):
    end = now().replace(microsecond=0) - timedelta(days=1)
    seminar = seminar_ending_at(end)
    person = register(seminar, email="person@example.net")
    tick(seminar, person, "PP")
    db.session.commit()
    assert attendance.record_certificate_notices() == 1
    attendance.record(seminar.sessions[1], person, "absent")  # a wrong tick corrected
    db.session.commit()
    run_worker(once=True, echo=lambda line: None)
    [row] = certificate_rows()
    assert row.status == MessageStatus.SKIPPED


def test_seminars_over_long_ago_are_not_looked_at(app_ctx):
    end = now().replace(microsecond=0) - attendance.CERTIFICATE_NOTICE_PERIOD - timedelta(days=1)
    seminar = seminar_ending_at(end)
    tick(seminar, register(seminar), "PP")
    db.session.commit()
    assert attendance.record_certificate_notices() == 0


def test_later_passes_record_nothing_and_log_nothing(app_ctx, caplog):
    """The worker asks every few seconds for a month after a seminar: once everyone was told, its
    passes are silent (no "0 certificate emails recorded" line every pass)."""
    end = now().replace(microsecond=0) - timedelta(days=1)
    seminar = seminar_ending_at(end)
    tick(seminar, register(seminar, email="person@example.net"), "PP")
    db.session.commit()
    caplog.set_level("INFO", logger="booking.attendance.services")
    assert attendance.record_certificate_notices() == 1
    assert [r.getMessage() for r in caplog.records] == [f"seminar {seminar.id}: 1 certificate emails recorded"]
    caplog.clear()
    assert attendance.record_certificate_notices() == 0
    assert caplog.records == []
