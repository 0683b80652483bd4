"""The MIME shape of invitations, read back with Python's email package as a mail client would.

The last tests send through Flask-Mail to a real SMTP server (aiosmtpd) on loopback and parse
what arrived, so nothing between building and delivering the message can change its shape unseen.
"""
from __future__ import annotations

import socket
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr

import pytest
from aiosmtpd.controller import Controller

from booking.calendar import ics
from booking.extensions import mail
from booking.mail.message import CalendarMessage

from tests.factories import make_registration, make_seminar, utc

SUBJECT = "Einladung: Vereinsrecht – Ayşe Çelik, مريم الحسن"
TEXT = "Hallo Ayşe,\n\ndein Platz ist bestätigt.\n"
HTML = "<p>Hallo Ayşe,</p><p>dein Platz ist bestätigt.</p>"


@pytest.fixture
def registration(app_ctx):
    seminar = make_seminar(sessions=[(utc(2030, 7, 15, 16), utc(2030, 7, 15, 18))])
    return make_registration(seminar, first_name="مريم", last_name="الحسن", email="maryam@example.net")


def calendar_for(registration, method="REQUEST") -> bytes:
    build = ics.invitation if method == "REQUEST" else ics.cancellation
    return build(registration, registration.seminar.sessions[0], sequence=1 if method == "REQUEST" else 2,
                 attendee_email=registration.email, attendee_name=registration.full_name)


def parse(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def invitation_message(registration, method="REQUEST", **overrides) -> tuple[CalendarMessage, bytes]:
    calendar = calendar_for(registration, method)
    values = {"recipients": [registration.email], "body": TEXT, "html": HTML, "calendar": calendar} | overrides
    return CalendarMessage(SUBJECT, **values), calendar


def assert_invitation_shape(message, calendar: bytes, method: str):
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment, *rest = message.iter_parts()
    assert rest == []
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, inline = alternative.iter_parts()
    assert [plain.get_content_type(), html.get_content_type()] == ["text/plain", "text/html"]
    # Bodies arrive with the wire's CRLF line ends.
    assert plain.get_content().replace("\r\n", "\n") == TEXT
    assert html.get_content().replace("\r\n", "\n").rstrip("\n") == HTML

    assert inline.get_content_type() == "text/calendar"
    assert inline.get_param("method") == method == method.upper()
    assert f"METHOD:{method}\r\n".encode() in inline.get_payload(decode=True)
    assert inline.get_content_charset() == "utf-8"
    assert inline["Content-Transfer-Encoding"] in ("7bit", "8bit", "quoted-printable")
    assert inline["Content-Disposition"] is None
    assert inline.get_payload(decode=True) == calendar

    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content() == calendar


def test_invitation_has_the_shape_clients_need(registration):
    message, calendar = invitation_message(registration)
    parsed = parse(message.as_bytes())

    assert_invitation_shape(parsed, calendar, "REQUEST")
    assert parsed["Subject"] == SUBJECT
    assert parseaddr(parsed["From"])[1] == "seminars@example.org"
    assert parsed["To"] == "maryam@example.net"
    assert parsed["Date"] and parsed["Message-ID"] == message.msgId
    assert parsed["MIME-Version"] == "1.0"


def test_cancellation_carries_method_cancel(registration):
    message, calendar = invitation_message(registration, method="CANCEL")
    parsed = parse(message.as_bytes())
    assert_invitation_shape(parsed, calendar, "CANCEL")
    assert message.method == "CANCEL"


def test_method_must_match_the_calendar(registration):
    calendar = calendar_for(registration, "REQUEST")
    message = CalendarMessage("x", recipients=["a@example.net"], body="x", calendar=calendar, method="request")
    assert message.method == "REQUEST"
    with pytest.raises(ValueError, match="CANCEL"):
        CalendarMessage("x", recipients=["a@example.net"], body="x", calendar=calendar, method="CANCEL")


def test_display_name_sender_and_extra_headers_are_kept(registration):
    message, calendar = invitation_message(registration, sender=("Seminarbüro der Stadt", "seminars@example.org"),
                                           extra_headers={"Auto-Submitted": "auto-generated",
                                                          "X-Booking-Outbox": "42"})
    parsed = parse(message.as_bytes())
    assert parsed["From"].addresses[0].display_name == "Seminarbüro der Stadt"
    assert parsed["From"].addresses[0].addr_spec == "seminars@example.org"
    assert parsed["Auto-Submitted"] == "auto-generated" and parsed["X-Booking-Outbox"] == "42"
    assert_invitation_shape(parsed, calendar, "REQUEST")


def test_without_calendar_it_is_a_plain_alternative(app_ctx):
    message = CalendarMessage(SUBJECT, recipients=["a@example.net"], body=TEXT, html=HTML)
    parsed = parse(message.as_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["Subject"] == SUBJECT
    assert b"text/calendar" not in message.as_bytes()


def test_other_attachments_follow_the_invitation(registration):
    message, calendar = invitation_message(registration)
    message.attach("programm.txt", "text/plain", "Ablauf".encode())
    parsed = parse(message.as_bytes())
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["multipart/alternative", "application/ics", "text/plain"]
    assert parts[2].get_filename() == "programm.txt"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Recorder:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on a free loopback port; the app's Flask-Mail sends to it."""
    recorder = _Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_SUPPRESS_SEND=False)
    mail.init_app(app)
    try:
        yield recorder
    finally:
        controller.stop()


def test_invitation_arrives_over_smtp_in_the_same_shape(smtp_server, registration):
    message, calendar = invitation_message(registration)
    mail.send(message)

    [envelope] = smtp_server.envelopes
    assert envelope.mail_from == "seminars@example.org"
    assert envelope.rcpt_tos == ["maryam@example.net"]
    arrived = parse(envelope.original_content or envelope.content)
    assert_invitation_shape(arrived, calendar, "REQUEST")
    assert arrived["Subject"] == SUBJECT
