"""Messages of a group registration over a real SMTP server: one email to the contact per event,
never one per member, and members with their own address told who registered them."""
from datetime import timedelta

import pytest

from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail import outbox
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, MessageStatus, OutboxMessage
from booking.mail.reminders import schedule_reminders
from booking.registrations import services as registrations
from booking.seminars import scheduling

from tests.factories import make_applicant, make_association, make_seminar, now
from tests.test_mail_dispatch import calendar_part

CONTACT = ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                         preferred_language="en")


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def html(message) -> str:
    return message.get_body(("html",)).get_content()


def to(smtp_server, address, since=0):
    return [m for m in smtp_server.messages[since:] if m["To"] == address]


@pytest.fixture
def group(app_ctx, smtp_server):
    """Aylin registers Ali and Cem (no address) and Berna (own address) for a seminar of two sessions
    with two places: Ali and Berna get them, Cem waits. Everything recorded so far is sent."""
    start = now().replace(microsecond=0) + timedelta(days=7)
    seminar = make_seminar(sessions=[(start, start + timedelta(hours=2)),
                                     (start + timedelta(days=7), start + timedelta(days=7, hours=2))],
                           title="Vereinsrecht", capacity=2)
    ali, berna, cem = associations.register_group(
        seminar, CONTACT,
        [make_applicant(first_name="Ali", last_name="Demir", email=None, preferred_language="tr"),
         make_applicant(first_name="Berna", last_name="Şahin", email="berna@example.net", preferred_language="en"),
         make_applicant(first_name="Cem", last_name="Öztürk", email=None)],
        make_association("Kulturverein"))
    db.session.commit()
    dispatch_pending()
    db.session.commit()
    return {"seminar": seminar, "ali": ali, "berna": berna, "cem": cem}


def test_the_contact_gets_one_email_for_the_whole_group(group, smtp_server):
    ali = group["ali"]
    to_contact = to(smtp_server, "vorstand@verein.example")
    to_berna = to(smtp_server, "berna@example.net")
    assert len(smtp_server.messages) == 1 + 3  # the overview; Berna's confirmation and two invitations
    [overview] = to_contact
    assert overview["Subject"] == "Your registrations for your association"
    assert calendar_part(overview) is None

    text = plain(overview)
    assert "Hello Aylin Kaya," in text
    assert "- Ali Demir: place" in text and "- Berna Şahin: place" in text
    assert "- Cem Öztürk: waiting list, number 1 (All places are taken.)" in text
    assert "No email address of their own: we write to you about this person." in text
    assert "We send this person's confirmation and calendar invitations to berna@example.net." in text
    token = associations.contact_token(ali.registered_by)
    assert f"/associations/contact/{token}/calendar.ics" in text  # the members' sessions, as a calendar
    assert f"/associations/contact/{token}\r\n" in text  # the contact's link
    assert "What happens next:" in text and "If one of them gets a place from the waiting list, we write to you." in text
    assert "Ali Demir" in html(overview) and f"/associations/contact/{token}/calendar.ics" in html(overview)
    # read on a phone at its width, not zoomed out from a desktop layout
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html(overview)

    assert [m["Subject"].split(":")[0] for m in to_berna] == ["Your place", "Invitation", "Invitation"]
    assert all("Ali" not in plain(m) and "Cem" not in plain(m) for m in to_berna)


def test_a_member_with_an_address_is_told_who_registered_them(group, smtp_server):
    berna = group["berna"]
    confirmation, first_invitation, _ = to(smtp_server, "berna@example.net")
    for message in (confirmation, first_invitation):
        for body in (plain(message), html(message)):
            assert "Aylin Kaya of Kulturverein registered you for this seminar." in body
            assert "If you did not expect this, you can cancel the registration with your personal link" in body
        assert f"/registrations/{registrations.manage_token(berna)}" in plain(message)


def test_a_waitlisted_member_with_an_address_is_told_who_registered_them(app_ctx, smtp_server):
    seminar = make_seminar(capacity=1, title="Kasse")
    associations.register_group(seminar, CONTACT, [make_applicant(email=None),
                                                   make_applicant(first_name="Derya", email="derya@example.net")],
                                None)
    db.session.commit()
    dispatch_pending()

    [waitlisted] = to(smtp_server, "derya@example.net")
    assert waitlisted["Subject"] == "Waiting list: Kasse"
    assert "Aylin Kaya registered you for this seminar." in plain(waitlisted)
    # a person who registered themselves reads nothing of the kind
    registrations.register(seminar, make_applicant(email="self@example.net"), None)
    db.session.commit()
    dispatch_pending()
    [own] = to(smtp_server, "self@example.net")
    assert "registered you" not in plain(own)


def test_a_place_from_the_waiting_list_is_one_email_to_the_contact_without_invitations(group, smtp_server):
    before = len(smtp_server.messages)
    registrations.cancel_registration(group["berna"])  # Cem moves up
    db.session.commit()
    dispatch_pending()

    [promotion] = to(smtp_server, "vorstand@verein.example", before)
    # the contact reads whom it is about, never "you have a place"
    assert promotion["Subject"] == "Cem Öztürk now has a place: Vereinsrecht"
    assert calendar_part(promotion) is None
    text = plain(promotion)
    assert "This message is about Cem Öztürk" in text
    assert "Cem Öztürk now has a place in the seminar “Vereinsrecht”." in text
    assert "it is yours" not in text and "You now have a place" not in text
    assert "Cem Öztürk now has a place" in html(promotion)
    assert f"/associations/contact/{associations.contact_token(group['cem'].registered_by)}/calendar.ics" in text
    assert "separate emails" not in text
    # Berna: her cancellation and two calendar cancellations, as before
    assert [m["Subject"].split(":")[0] for m in to(smtp_server, "berna@example.net", before)] == [
        "Your registration is cancelled", "Cancelled", "Cancelled"]


def test_a_moved_session_is_one_email_to_the_contact_naming_the_members(group, smtp_server):
    session = group["seminar"].sessions[0]
    before = len(smtp_server.messages)
    scheduling.change_session(session, starts_at=session.starts_at + timedelta(hours=1),
                              ends_at=session.ends_at + timedelta(hours=1))
    db.session.commit()
    dispatch_pending()

    [update] = to(smtp_server, "vorstand@verein.example", before)
    assert update["Subject"].startswith("Changed for your members: Vereinsrecht,")
    text = plain(update)
    assert "A session of the seminar “Vereinsrecht” has changed." in text and "Time:" in text
    assert "- Ali Demir" in text and "Cem" not in text  # Cem has no place
    assert "please let them know" in text
    [berna_update] = to(smtp_server, "berna@example.net", before)
    assert berna_update["Subject"].startswith("Changed: Vereinsrecht")
    assert calendar_part(berna_update) is not None
    # no calendar update went to the contact for an event the contact was never sent
    assert not [m for m in db.session.scalars(db.select(OutboxMessage).where(
        OutboxMessage.registration_id == group["ali"].id, OutboxMessage.kind == MessageKind.INVITATION))]


def test_a_cancelled_session_and_seminar_reach_the_contact_once_each(group, smtp_server):
    before = len(smtp_server.messages)
    scheduling.cancel_session(group["seminar"].sessions[1], reason="Die Referentin ist krank.")
    db.session.commit()
    dispatch_pending()
    [cancelled] = to(smtp_server, "vorstand@verein.example", before)
    assert cancelled["Subject"].startswith("Cancelled for your members: Vereinsrecht,")
    assert "Die Referentin ist krank." in plain(cancelled) and "- Ali Demir" in plain(cancelled)
    assert len(to(smtp_server, "berna@example.net", before)) == 1  # her CANCEL

    before = len(smtp_server.messages)
    scheduling.cancel_seminar(group["seminar"], reason="Zu wenige Anmeldungen.")
    db.session.commit()
    dispatch_pending()
    [seminar_cancelled] = to(smtp_server, "vorstand@verein.example", before)
    assert seminar_cancelled["Subject"] == "Seminar cancelled: Vereinsrecht"
    text = plain(seminar_cancelled)
    assert "- Ali Demir" in text and "- Cem Öztürk" in text and "Zu wenige Anmeldungen." in text


def test_reminders_are_one_email_to_the_contact_per_session_and_moment(group, smtp_server):
    first = group["seminar"].sessions[0]
    moment = first.starts_at - timedelta(hours=47, minutes=30)
    before = len(smtp_server.messages)

    assert schedule_reminders(moment) == 2  # Berna's own, and one for the contact
    assert schedule_reminders(moment + timedelta(minutes=5)) == 0
    db.session.commit()
    dispatch_pending(moment)

    [reminder] = to(smtp_server, "vorstand@verein.example", before)
    assert reminder["Subject"].startswith("Reminder for your members: Vereinsrecht,")
    assert "- Ali Demir" in plain(reminder) and "Cem" not in plain(reminder)
    assert len(to(smtp_server, "berna@example.net", before)) == 1


def test_a_contact_reminder_for_a_session_cancelled_meanwhile_is_skipped(group, smtp_server):
    first = group["seminar"].sessions[0]
    moment = first.starts_at - timedelta(hours=47, minutes=30)
    schedule_reminders(moment)
    db.session.commit()
    scheduling.cancel_session(first)
    db.session.commit()

    dispatch_pending(moment)

    [reminder] = db.session.scalars(db.select(OutboxMessage).where(
        OutboxMessage.kind == MessageKind.MEMBERS_UPDATE, OutboxMessage.facts["about"].as_string() == "reminder"))
    assert reminder.status == MessageStatus.SKIPPED
    assert reminder.skip_reason == "the session was cancelled or changed"


def test_members_registered_before_this_rule_keep_getting_calendar_updates(group, smtp_server):
    """A member without an address whose invitation was sent to the contact (older registrations)."""
    ali, session = group["ali"], group["seminar"].sessions[0]
    outbox.record(MessageKind.INVITATION, ali, session, revision=session.revision, facts={"sequence": 0})
    db.session.commit()
    dispatch_pending()
    before = len(smtp_server.messages)

    scheduling.cancel_session(session)
    db.session.commit()
    dispatch_pending()

    # the CANCEL for the event the contact's calendar has, instead of the members' email
    [cancel] = to(smtp_server, "vorstand@verein.example", before)
    assert cancel["Subject"].startswith("For Ali Demir: Cancelled:")
    assert calendar_part(cancel) is not None
