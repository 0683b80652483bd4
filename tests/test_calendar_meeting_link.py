"""The online meeting link reaches confirmed participants only: pages, feeds, emails and invitations.

The rule lives in one place (Registration.meeting_link); these tests look at what people receive.
"""
from __future__ import annotations

import pytest

from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.calendar import ics
from booking.extensions import db
from booking.mail import outbox
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind
from booking.registrations import services
from booking.registrations.models import RegistrationStatus

from tests.factories import make_applicant, make_registration, make_seminar

LINK = "https://meet.example.org/secret-room-4711"
SECRET = "secret-room-4711"  # in any encoding of the link (URL-encoded in calendar links)


def online_seminar(**overrides):
    return make_seminar(sessions=2, venue_name="", venue_address="", online_url=LINK, **overrides)


def everything(message) -> str:
    """Every header and every decoded part of an email, calendar objects included."""
    texts = [str(value) for value in message.values()]
    for part in message.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            texts.append(payload.decode("utf-8", "replace").replace("\r\n ", ""))
    return "\n".join(texts)


@pytest.fixture
def people(app_ctx):
    """Two places: Anna has one; Cem had one and cancelled; Berk moved up into his; Derya waits."""
    seminar = online_seminar(capacity=2)
    anna, cem, berk, derya = (make_registration(seminar, first_name=name, email=f"{name.lower()}@example.net")
                              for name in ("Anna", "Cem", "Berk", "Derya"))
    db.session.commit()
    return {"seminar": seminar, "anna": anna, "cem": cem, "berk": berk, "derya": derya}


def cancel_cem(people):
    services.cancel_registration(people["cem"])
    db.session.commit()
    assert people["berk"].status == RegistrationStatus.CONFIRMED
    assert (people["cem"].status, people["derya"].status) == (RegistrationStatus.CANCELLED,
                                                              RegistrationStatus.WAITLISTED)


def test_only_confirmed_registrations_may_see_the_link(people):
    cancel_cem(people)
    assert people["anna"].meeting_link == people["berk"].meeting_link == LINK
    assert people["cem"].meeting_link is None and people["derya"].meeting_link is None


def test_personal_feed_carries_the_link_only_for_a_place(people, client):
    cancel_cem(people)
    for name, sees in (("anna", True), ("berk", True), ("cem", False), ("derya", False)):
        body = client.get(f"/registrations/{services.manage_token(people[name])}.ics").get_data(as_text=True)
        assert body.count("BEGIN:VEVENT") == 2
        assert (SECRET in body) is sees, name
        assert body.count(f"LOCATION:{LINK}" if sees else "LOCATION:Online") == 2


def test_manage_page_shows_the_link_only_for_a_place(people, client):
    cancel_cem(people)
    for name, sees in (("anna", True), ("berk", True), ("cem", False), ("derya", False)):
        page = client.get(f"/registrations/{services.manage_token(people[name])}").get_data(as_text=True)
        assert (SECRET in page) is sees, name
        assert ("Link to the online meeting" in page) is sees


def test_contact_feed_carries_the_link_only_for_members_with_a_place(app_ctx, client):
    seminar = online_seminar(capacity=1)
    contact = ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                             preferred_language="en")
    placed, waiting = associations.register_group(
        seminar, contact, [make_applicant(first_name="Ali", email=None), make_applicant(first_name="Can", email=None)],
        None)
    db.session.commit()
    assert (placed.status, waiting.status) == (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)

    page_feed = client.get(f"/associations/contact/{associations.contact_token(placed.registered_by)}/calendar.ics")
    assert page_feed.get_data(as_text=True).count(f"LOCATION:{LINK}") == 2
    # the feed builder applies the rule itself, whatever registrations it is given
    both = ics.contact_feed([placed, waiting], name="Verein", summary=lambda r: r.full_name).decode()
    assert both.count(f"LOCATION:{LINK}") == 2 and both.count("LOCATION:Online") == 2


def test_emails_and_invitations_carry_the_link_only_for_a_place(people, smtp_server):
    dispatch_pending()
    first_round = list(smtp_server.messages)
    cancel_cem(people)
    outbox.record(MessageKind.REMINDER, people["anna"], people["seminar"].sessions[0],
                  revision=0, extra_key="test", facts={"offset_minutes": 180})
    db.session.commit()
    dispatch_pending()
    later = smtp_server.messages[len(first_round):]

    def to(name, messages):
        return [m for m in messages if m["To"] == f"{name}@example.net"]

    # a place: the confirmation, each invitation (LOCATION) and the reminder carry the link
    anna = to("anna", first_round) + to("anna", later)
    assert [m["Subject"].split(":")[0] for m in anna] == ["Your place", "Invitation", "Invitation", "Reminder"]
    assert all(SECRET in everything(m) for m in anna)
    assert all(f"LOCATION:{LINK}" in everything(m) for m in anna if "Invitation" in m["Subject"])
    # on the waiting list: nothing; once promoted: the promotion and the invitations
    berk_waiting, = to("berk", first_round)
    assert berk_waiting["Subject"].startswith("Waiting list") and SECRET not in everything(berk_waiting)
    berk_promoted = to("berk", later)
    assert len(berk_promoted) == 3 and all(SECRET in everything(m) for m in berk_promoted)
    derya, = to("derya", first_round + later)
    assert derya["Subject"].startswith("Waiting list") and SECRET not in everything(derya)
    # after cancelling: the notice and the calendar cancellations no longer carry it
    cem_after = to("cem", later)
    assert len(cem_after) == 3
    assert not any(SECRET in everything(m) for m in cem_after)
    assert sum("LOCATION:Online" in everything(m) for m in cem_after) == 2
