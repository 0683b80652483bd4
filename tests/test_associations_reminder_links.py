"""Members without an address of their own: the contact's reminder before the first session carries,
per member, the same "I am coming" and "release the place" links as a participant's own reminder."""
from __future__ import annotations

import re
from datetime import timedelta

from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, OutboxMessage
from booking.mail.reminders import schedule_reminders
from booking.redaction import REDACTED
from booking.registrations import services
from booking.registrations.models import Registration, RegistrationStatus

from tests.factories import csrf_token
from tests.test_associations_mail import group, html, plain, to  # noqa: F401  (the fixture)

CONTACT = "vorstand@verein.example"


def paths(text: str) -> set[str]:
    return set(re.findall(r"https?://[^/\s]+(/registrations/[^\s\"<]+/(?:coming|release))", text))


def remind(seminar, session, smtp_server):
    moment = session.starts_at - timedelta(hours=47, minutes=30)
    before = len(smtp_server.messages)
    schedule_reminders(moment)
    db.session.commit()
    dispatch_pending(moment)
    [reminder] = to(smtp_server, CONTACT, before)
    return reminder


def test_the_contacts_first_reminder_has_both_links_per_member_with_a_place(group, smtp_server):  # noqa: F811
    seminar, ali, cem = group["seminar"], group["ali"], group["cem"]
    reminder = remind(seminar, seminar.sessions[0], smtp_server)
    text, body = plain(reminder), html(reminder)
    expected = {f"/registrations/{services.coming_token(ali)}/coming",
                f"/registrations/{services.release_token(ali)}/release"}
    assert paths(text) == expected and paths(body) == expected  # Ali only: Cem waits, Berna is told herself
    assert "Please tell us for each of them whether they are coming." in text
    assert "Ali Demir is coming" in body
    # the email log keeps it without the links' tokens
    stored = db.session.scalar(db.select(OutboxMessage).where(
        OutboxMessage.kind == MessageKind.MEMBERS_UPDATE, OutboxMessage.recipient == CONTACT,
        OutboxMessage.facts["about"].as_string() == "reminder"))
    assert services.coming_token(ali) not in stored.body_text
    assert services.release_token(ali) not in stored.body_html
    assert f"/registrations/{REDACTED}/coming" in stored.body_text


def test_the_contacts_reminder_before_a_later_session_has_no_such_links(group, smtp_server):  # noqa: F811
    seminar = group["seminar"]
    reminder = remind(seminar, seminar.sessions[1], smtp_server)
    assert paths(plain(reminder)) == set()
    assert "If someone cannot come, please cancel their place" in plain(reminder)


def test_the_members_links_confirm_and_release_after_a_button(group, smtp_server, client):  # noqa: F811
    seminar, ali, cem = group["seminar"], group["ali"], group["cem"]
    reminder = remind(seminar, seminar.sessions[0], smtp_server)
    found = paths(plain(reminder))
    [coming] = [path for path in found if path.endswith("/coming")]
    [release] = [path for path in found if path.endswith("/release")]
    page = client.get(coming)
    assert page.status_code == 200 and "Ali Demir" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Registration, ali.id).attendance_confirmed_at is None  # a GET changes nothing

    client.post(coming, data={"csrf_token": csrf_token(client, coming)})
    db.session.expire_all()
    assert db.session.get(Registration, ali.id).attendance_confirmed_at is not None

    client.get(release)
    db.session.expire_all()
    assert db.session.get(Registration, ali.id).status == RegistrationStatus.CONFIRMED
    client.post(release, data={"csrf_token": csrf_token(client, release)})
    db.session.expire_all()
    assert db.session.get(Registration, ali.id).status == RegistrationStatus.CANCELLED
    assert db.session.get(Registration, cem.id).status == RegistrationStatus.CONFIRMED  # a week ahead: promoted
