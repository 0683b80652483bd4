"""Messages of a group registration over a real SMTP server: members without email, and the contact's own."""
import vobject

from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.registrations import services as registrations

from tests.factories import make_applicant, make_association, make_seminar
from tests.test_mail_dispatch import calendar_text, ics_value

CONTACT = ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                         preferred_language="en")


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_member_without_email_gets_their_messages_through_the_contact(app_ctx, smtp_server):
    seminar = make_seminar(sessions=2, title="Vereinsrecht", capacity=5)
    ali, berna = associations.register_group(
        seminar, CONTACT,
        [make_applicant(first_name="Ali", last_name="Demir", email=None, preferred_language="tr"),
         make_applicant(first_name="Berna", last_name="Şahin", email="berna@example.net")],
        make_association("Kulturverein"))
    db.session.commit()

    dispatch_pending()
    db.session.commit()

    to_contact = [m for m in smtp_server.messages if m["To"] == "vorstand@verein.example"]
    to_berna = [m for m in smtp_server.messages if m["To"] == "berna@example.net"]
    assert len(smtp_server.messages) == 1 + 3 + 3  # the overview; Ali's 3 messages; Berna's 3
    assert len(to_berna) == 3 and all("Ali" not in plain(m) for m in to_berna)
    subjects = [m["Subject"] for m in to_contact]
    assert subjects[0] == "For Ali Demir: Your place: Vereinsrecht"
    assert subjects[-1] == "Your registrations for your association"

    confirmation = plain(to_contact[0])
    assert "Hello Aylin Kaya," in confirmation
    assert "This message is about Ali Demir" in confirmation
    assert f"/registrations/{registrations.manage_token(ali)}" in confirmation
    assert "This message is about Ali Demir" in to_contact[0].get_body(("html",)).get_content()

    invitations = [m for m in to_contact if m["Subject"].startswith("For Ali Demir: Invitation:")]
    assert len(invitations) == 2
    for invitation in invitations:
        body = calendar_text(invitation).replace("\r\n ", "")
        assert ics_value(body, "ATTENDEE") == "mailto:vorstand@verein.example"
        assert vobject.readOne(body).vevent.attendee.params["CN"] == ["Aylin Kaya"]
        assert ics_value(body, "SUMMARY") == "Vereinsrecht – Ali Demir"
        assert "This message is about Ali Demir" in plain(invitation)

    overview = plain(to_contact[-1])
    assert "- Ali Demir: place" in overview and "- Berna Şahin: place" in overview
    assert "No email address: we send this person's messages and calendar invitations to you." in overview
    token = associations.contact_token(ali.registered_by)
    assert f"/associations/contact/{token}" in overview
