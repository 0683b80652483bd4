"""The group form never tells whether an address is registered: such a row is not registered again,
its address gets the existing personal link by email (at most once an hour), and the page and the
contact's overview say only "we have sent an email to this person's address".

Also the single and the group path under a race, and the database's unique index as the last line
of defence. Real SMTP server, real SQLite or PostgreSQL.
"""
import re

import pytest

from booking.associations import services as associations
from booking.associations.models import Association, AssociationContact, LinkRequest
from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, OutboxMessage
from booking.registrations import services as registrations
from booking.registrations.models import Registration, RegistrationStatus
from booking.seminars.models import Seminar

from tests.factories import csrf_token, make_applicant, make_association, make_registration, make_seminar
from tests.test_registrations_concurrency import run_in_threads

URL = "/seminars/vereinsrecht/group"
SENT = "we have sent an email to this person's address."


@pytest.fixture
def taken(app):
    """A seminar with 4 places; taken@example.net registered herself; returns her manage link."""
    with app.app_context():
        seminar = make_seminar(capacity=4, slug="vereinsrecht", title="Vereinsrecht")
        make_association("Kulturverein")
        registration = make_registration(seminar, first_name="Tamara", last_name="Original",
                                         email="taken@example.net")
        db.session.commit()
        dispatch_pending()  # her own confirmation and invitations are out of the way
        return f"/registrations/{registrations.manage_token(registration)}"


def form_data(client, people, **overrides):
    data = {"csrf_token": csrf_token(client, URL), "contact_first_name": "Aylin", "contact_last_name": "Kaya",
            "contact_email": "vorstand@verein.example", "contact_phone": "", "association_id": "",
            "new_association": "Ganz neuer Verein", "consent": "y", "submit": "Register these people"}
    for i, (first, last, email) in enumerate(people):
        data |= {f"participants-{i}-first_name": first, f"participants-{i}-last_name": last,
                 f"participants-{i}-email": email, f"participants-{i}-preferred_language": "en"}
    return data | overrides


def counts(app):
    with app.app_context():
        return {
            "registrations": db.session.scalar(db.select(db.func.count(Registration.id))),
            "active_taken": db.session.scalar(db.select(db.func.count(Registration.id)).where(
                Registration.email_key == "taken@example.net", Registration.status != RegistrationStatus.CANCELLED)),
            "contacts": db.session.scalar(db.select(db.func.count(AssociationContact.id))),
            "associations": list(db.session.scalars(db.select(Association.name).order_by(Association.id))),
        }


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_registered_address_in_the_group_is_answered_neutrally_and_gets_its_link(app, client, smtp_server, taken):
    people = [("Ali", "Demir", ""), ("Berna", "Şahin", "TAKEN@example.net"), ("Cem", "Öztürk", "cem@example.net")]
    response = client.post(URL, data=form_data(client, people))

    assert response.status_code == 302 and response.headers["Location"] == "/associations/registered"
    page = client.get("/associations/registered").get_data(as_text=True)
    assert "already" not in page and "Tamara" not in page
    assert f"<strong>Berna Şahin</strong>: {SENT}" in page
    names = re.findall(r'<tr class="status-\w+">\s*<td[^>]*>(.*?)</td>', page)
    assert names == ["Ali Demir", "Cem Öztürk"]
    assert "For 1 person we have sent an email to their address." in page

    # the others are registered; the registered address is not registered again
    stored = counts(app)
    assert stored["registrations"] == 3 and stored["active_taken"] == 1 and stored["contacts"] == 1

    with app.app_context():
        dispatch_pending()
    to = {}
    for message in smtp_server.messages[3:]:
        to.setdefault(message["To"], []).append(message)
    # the registered address: one email, with the existing link, nothing about the group
    [links] = to["taken@example.net"]
    assert links["Subject"] == "Your personal links"
    assert taken in plain(links) and "Berna" not in plain(links) and "Aylin" not in plain(links)
    # the contact: one overview that says the same as the page
    [overview] = to["vorstand@verein.example"]
    text = plain(overview)
    assert "- Berna Şahin: we have sent an email to this person's address." in text
    assert "already" not in text and "Tamara" not in text
    assert "- Ali Demir: place" in text and "- Cem Öztürk: place" in text


def test_a_group_of_registered_addresses_only_stores_nothing_and_sends_links_once_an_hour(app, client, smtp_server,
                                                                                          taken):
    people = [("Berna", "Şahin", "taken@example.net")]
    for attempt in range(2):
        fresh = app.test_client()
        response = fresh.post(URL, data=form_data(fresh, people))
        assert response.status_code == 302
        page = fresh.get(response.headers["Location"]).get_data(as_text=True)
        assert f"<strong>Berna Şahin</strong>: {SENT}" in page
        assert "already" not in page and "We have sent an overview" not in page

    stored = counts(app)
    # no registration, and neither the contact nor the association typed with the form were kept
    assert stored == {"registrations": 1, "active_taken": 1, "contacts": 0, "associations": ["Kulturverein"]}
    with app.app_context():
        assert dispatch_pending().sent == 1  # the second attempt within the hour sent nothing
        assert db.session.scalar(db.select(db.func.count(LinkRequest.id))) == 1
    [email] = smtp_server.messages[3:]
    assert email["To"] == "taken@example.net" and taken in plain(email)


def test_from_the_contacts_page_the_flash_is_neutral_too(app, client, taken):
    with app.app_context():
        seminar = db.session.scalar(db.select(Seminar))
        [ali] = associations.register_group(seminar, associations.ContactDetails(
            first_name="Aylin", last_name="Kaya", email="vorstand@verein.example", preferred_language="en"),
            [make_applicant(first_name="Ali", email=None)], make_association())
        token = associations.contact_token(ali.registered_by)
        db.session.commit()
    url = f"/associations/contact/{token}/seminars/vereinsrecht/group"
    data = {"csrf_token": csrf_token(client, url), "association_id": "", "new_association": "Kulturverein",
            "consent": "y", "participants-0-first_name": "Berna", "participants-0-last_name": "Şahin",
            "participants-0-email": "taken@example.net", "participants-0-preferred_language": "tr"}
    response = client.post(url, data=data)

    assert response.status_code == 302 and response.headers["Location"].startswith(f"/associations/contact/{token}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "For 1 person we have sent an email to their address." in page
    assert "already" not in page and "Tamara" not in page
    assert counts(app)["registrations"] == 2


# --- races and the last line of defence ---------------------------------------------------------

def test_the_same_address_sent_at_once_from_many_browsers_is_registered_once(app):
    with app.app_context():
        seminar_id = make_seminar(capacity=3).id
        db.session.commit()

    def work(i):
        seminar = db.session.get(Seminar, seminar_id)
        registrations.register_or_send_links(seminar, [make_applicant(email="Same@example.net")], None)

    errors = run_in_threads(app, 8, work)

    assert errors == []
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Registration.id))) == 1
        # the seven others: the link went out once (the hourly limit holds under the race too)
        links = list(db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.LINKS)))
        assert [m.recipient for m in links] == ["Same@example.net"]


def overlook_registered_addresses(monkeypatch):
    """As if another request had registered the address after the check under the lock looked."""
    counted = registrations.lock_and_count
    monkeypatch.setattr(registrations, "lock_and_count",
                        lambda seminar, association, emails: (*counted(seminar, association, emails)[:3], set()))


def test_the_unique_index_catches_what_the_check_missed_for_one_person_alone(app_ctx, monkeypatch):
    seminar = make_seminar(capacity=3)
    make_registration(seminar, email="taken@example.net")
    db.session.commit()
    overlook_registered_addresses(monkeypatch)

    outcome = registrations.register_or_send_links(seminar, [make_applicant(email="taken@example.net")], None)
    db.session.commit()

    assert outcome.registrations == [None]
    assert [a.email for a in outcome.links_sent] == ["taken@example.net"]
    assert db.session.scalar(db.select(db.func.count(Registration.id))) == 1
    assert registrations.confirmed_count(seminar) == 1
    assert [m.recipient for m in db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.LINKS))] == ["taken@example.net"]
    # the session goes on: the next person is registered in the same transaction's successor
    registrations.register_or_send_links(seminar, [make_applicant(email="next@example.net")], None)
    db.session.commit()
    assert registrations.confirmed_count(seminar) == 2


def test_the_unique_index_catches_what_the_check_missed(app_ctx, monkeypatch):
    seminar = make_seminar(capacity=3)
    make_registration(seminar, email="taken@example.net")
    db.session.commit()
    overlook_registered_addresses(monkeypatch)

    outcome = registrations.register_or_send_links(
        seminar, [make_applicant(email="new@example.net"), make_applicant(email="taken@example.net")], None)
    db.session.commit()

    assert [r is not None for r in outcome.registrations] == [True, False]
    assert [a.email for a in outcome.links_sent] == ["taken@example.net"]
    assert db.session.scalar(db.select(db.func.count(Registration.id))) == 2
    assert registrations.confirmed_count(seminar) == 2  # the caught one took no place
    assert [m.recipient for m in db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.LINKS))] == ["taken@example.net"]

    # made again with a savepoint each: a new association typed with the form is kept once
    outcome = registrations.register_or_send_links(
        seminar, [make_applicant(email="third@example.net"), make_applicant(email="taken@example.net")],
        lambda: associations.find_or_create_association("Neuer Verein"))
    db.session.commit()
    assert [r is not None for r in outcome.registrations] == [True, False]
    [new] = db.session.scalars(db.select(Association).where(Association.name == "Neuer Verein")).all()
    assert outcome.registrations[0].association_id == new.id

    # the strict path (coordinator tools, tests) refuses with the row named instead of failing
    with pytest.raises(registrations.DuplicateRegistration) as refused:
        registrations.register_people(seminar, [make_applicant(), make_applicant(email="taken@example.net")], None)
    assert refused.value.index == 1
