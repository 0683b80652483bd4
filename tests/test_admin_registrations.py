"""The office's registration pages: the list, one registration, registering by hand, cancelling with
a note, moving up from the waiting list, resending emails and writing to participants."""
from __future__ import annotations

import re

import pytest

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.audit import AuditEntry
from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, MessageStatus, OutboxMessage
from booking.registrations.models import Registration, RegistrationStatus

from tests.factories import csrf_token, make_applicant, make_association, make_registration, make_seminar
from tests.test_admin_access import PASSWORD, log_in


@pytest.fixture
def staff(app):
    with app.app_context():
        coordinator = create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                                  password=PASSWORD)
        trainer = create_user("trainerin@stadt.example", role=Role.TRAINER, display_name="Trainerin",
                              password=PASSWORD)
        db.session.commit()
        return {"coordinator": coordinator.email, "trainer": trainer.email, "trainer_id": trainer.id,
                "coordinator_id": coordinator.id}


@pytest.fixture
def seminar(app, staff):
    """A one-place seminar with an association maximum: Leyla has the place, Ahmet and Gül wait."""
    with app.app_context():
        seminar = make_seminar(title="Vereinsrecht", capacity=2, max_per_association=1,
                               trainer_user_id=staff["trainer_id"])
        verein = make_association("Kulturverein Offenbach")
        leyla = make_registration(seminar, verein, first_name="Leyla", last_name="Yılmaz", email="leyla@example.net",
                                  needs="Kinderbetreuung für 2 Kinder", phone="069 123")
        ahmet = make_registration(seminar, verein, first_name="Ahmet", last_name="Öztürk", email="ahmet@example.net")
        seminar.capacity = 2
        other = make_seminar(title="Öffentlichkeitsarbeit")
        db.session.commit()
        return {"id": seminar.id, "leyla": leyla.id, "ahmet": ahmet.id, "verein": verein.id, "other": other.id}


def outbox(app, registration_id=None, kind=None):
    with app.app_context():
        query = db.select(OutboxMessage).order_by(OutboxMessage.id)
        if registration_id is not None:
            query = query.where(OutboxMessage.registration_id == registration_id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return [(m.kind, m.recipient, m.dedupe_key, dict(m.facts)) for m in db.session.scalars(query)]


def registration(app, registration_id):
    with app.app_context():
        row = db.session.get(Registration, registration_id)
        return row.status, row.waitlist_reason


# --- the list ---------------------------------------------------------------------------------

def test_the_list_shows_each_status_with_what_the_office_needs(app, client, staff, seminar):
    log_in(client, staff["coordinator"])
    page = client.get(f"/admin/seminars/{seminar['id']}/registrations").get_data(as_text=True)
    assert "<h2 id=\"section-confirmed\">Confirmed (1)</h2>" in page
    assert "<h2 id=\"section-waitlisted\">Waiting list (1)</h2>" in page
    assert "Yılmaz, Leyla" in page and "Öztürk, Ahmet" in page
    assert "Kulturverein Offenbach" in page and "069 123" in page and "English" in page
    # the needs stand out, and the office is told to arrange them
    assert "<mark><strong>Kinderbetreuung für 2 Kinder</strong></mark>" in page
    assert "1 person has told us of needs" in page
    assert "association maximum reached" in page
    assert "Self" in page
    assert "Register someone" in page and "Write to the participants" in page


def test_the_list_filters_and_sorts_without_javascript(app, client, staff, seminar):
    with app.app_context():
        semi = db.session.get(Registration, seminar["leyla"]).seminar
        semi.capacity = 10
        make_registration(semi, make_association("Anadolu e.V."), first_name="Zeynep", last_name="Aydın")
        db.session.commit()
    log_in(client, staff["coordinator"])
    base = f"/admin/seminars/{seminar['id']}/registrations"
    by_name = client.get(f"{base}?status=confirmed&sort=name").get_data(as_text=True)
    assert by_name.index("Aydın, Zeynep") < by_name.index("Yılmaz, Leyla")
    assert "section-waitlisted" not in by_name
    by_name_desc = client.get(f"{base}?status=confirmed&sort=name&order=desc").get_data(as_text=True)
    assert by_name_desc.index("Yılmaz, Leyla") < by_name_desc.index("Aydın, Zeynep")
    only_verein = client.get(f"{base}?association={seminar['verein']}").get_data(as_text=True)
    assert "Yılmaz, Leyla" in only_verein and "Aydın, Zeynep" not in only_verein
    needs = client.get(f"{base}?needs=y").get_data(as_text=True)
    assert "Yılmaz, Leyla" in needs and "Öztürk, Ahmet" not in needs
    # nonsense in the query string is ignored, never a 500
    odd = client.get(f"{base}?status=bogus&association=١&sort=drop&order=x&seminar_id=9")
    assert odd.status_code == 200 and "Yılmaz, Leyla" in odd.get_data(as_text=True)
    assert client.get("/admin/seminars/99999999999999/registrations").status_code == 404


def test_a_trainer_reads_their_seminar_and_changes_nothing(app, client, staff, seminar):
    log_in(client, staff["trainer"])
    page = client.get(f"/admin/seminars/{seminar['id']}/registrations").get_data(as_text=True)
    assert "Yılmaz, Leyla" in page
    assert "Register someone" not in page and "Write to the participants" not in page
    detail = client.get(f"/admin/registrations/{seminar['ahmet']}").get_data(as_text=True)
    assert "Öztürk" in detail and "Give a place" not in detail and "Cancel registration" not in detail
    assert client.get(f"/admin/seminars/{seminar['other']}/registrations").status_code == 403
    token = csrf_token(client, "/admin/password")  # a valid token: the refusal is the role's doing
    for path in (f"/admin/registrations/{seminar['ahmet']}/promote", f"/admin/registrations/{seminar['leyla']}/cancel",
                 f"/admin/registrations/{seminar['leyla']}/resend", f"/admin/seminars/{seminar['id']}/message",
                 f"/admin/seminars/{seminar['id']}/registrations/new"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    for path in (f"/admin/registrations/{seminar['leyla']}/cancel", f"/admin/seminars/{seminar['id']}/message",
                 f"/admin/seminars/{seminar['id']}/registrations/new"):
        assert client.get(path).status_code == 403, path
    assert registration(app, seminar["ahmet"])[0] == RegistrationStatus.WAITLISTED


# --- one registration -------------------------------------------------------------------------

def test_a_registrations_page_shows_its_emails_and_history(app, client, staff, seminar):
    log_in(client, staff["coordinator"])
    page = client.get(f"/admin/registrations/{seminar['leyla']}").get_data(as_text=True)
    assert "Leyla Yılmaz" in page and "Has a place." in page
    assert "Confirmation" in page and "Calendar invitation" in page and "Waiting to be sent" in page
    assert "leyla@example.net" in page
    assert "Registered" in page and "System (command line)" in page
    assert client.get("/admin/registrations/abc").status_code == 404
    # which privacy notice the person agreed to, for the data-protection officer
    with app.app_context():
        db.session.get(Registration, seminar["leyla"]).consent_version = "2026-1/de/3f2a9c1b0d4e"
        db.session.commit()
    page = client.get(f"/admin/registrations/{seminar['leyla']}").get_data(as_text=True)
    assert "Privacy notice agreed to" in page and "version 2026-1 (German, text 3f2a9c1b0d4e)" in page


# --- cancel with a note -----------------------------------------------------------------------

def test_the_office_cancels_with_a_note_and_the_place_goes_on(app, client, staff, seminar, smtp_server):
    with app.app_context():
        semi = db.session.get(Registration, seminar["leyla"]).seminar
        karin = make_registration(semi, first_name="Karin", email="karin@example.net")  # the last free place
        db.session.commit()
        karin_id = karin.id
    log_in(client, staff["coordinator"])
    path = f"/admin/registrations/{seminar['leyla']}/cancel"
    response = client.post(path, data={"note": "Der Kurs ist für <b>Vorstände</b>.\nBitte melden Sie sich später.",
                                       "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    assert "is cancelled" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert registration(app, seminar["leyla"])[0] == RegistrationStatus.CANCELLED
    # Ahmet's association is at its maximum no more: he is first in line and gets the place
    assert registration(app, seminar["ahmet"])[0] == RegistrationStatus.CONFIRMED
    assert registration(app, karin_id)[0] == RegistrationStatus.CONFIRMED
    with app.app_context():
        actions = [(e.action, e.actor_kind, e.actor_user_id, e.detail.get("by_office"))
                   for e in db.session.scalars(db.select(AuditEntry).where(AuditEntry.actor_kind == "user"))]
        assert ("registration.cancelled", "user", staff["coordinator_id"], True) in actions
        assert ("registration.promoted", "user", staff["coordinator_id"], None) in actions
        dispatch_pending()
    cancellation = next(m for m in smtp_server.messages if m["To"] == "leyla@example.net"
                        and "cancelled" in m["Subject"])
    text = cancellation.get_body(("plain",)).get_content()
    assert "The office (Integration Office) has cancelled your registration" in text
    assert "Der Kurs ist für <b>Vorstände</b>." in text
    html = cancellation.get_body(("html",)).get_content()
    assert "&lt;b&gt;Vorstände&lt;/b&gt;" in html and "<b>Vorstände</b>" not in html
    assert any(m["To"] == "ahmet@example.net" and "now have a place" in m["Subject"] for m in smtp_server.messages)
    # sent again: refused with a message, nothing changes
    again = client.post(path, data={"note": "", "csrf_token": csrf_token(client, f"/admin/registrations/{seminar['leyla']}")})
    assert again.status_code == 302
    assert len(outbox(app, seminar["leyla"], MessageKind.REGISTRATION_CANCELLED)) == 1


def test_a_too_long_note_is_refused_beside_the_field(app, client, staff, seminar):
    log_in(client, staff["coordinator"])
    path = f"/admin/registrations/{seminar['leyla']}/cancel"
    response = client.post(path, data={"note": "x" * 2001, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 422
    assert "Please use at most 2000 characters." in response.get_data(as_text=True)
    assert registration(app, seminar["leyla"])[0] == RegistrationStatus.CONFIRMED


# --- move up by hand --------------------------------------------------------------------------

def test_moving_up_by_hand_passes_the_association_maximum_but_never_the_capacity(app, client, staff, seminar):
    log_in(client, staff["coordinator"])
    detail = f"/admin/registrations/{seminar['ahmet']}"
    page = client.get(detail).get_data(as_text=True)
    assert "Give a place" in page and "Their association has reached its maximum" in page
    response = client.post(f"{detail}/promote", data={"csrf_token": csrf_token(client, detail)})
    assert response.status_code == 302
    assert registration(app, seminar["ahmet"]) == (RegistrationStatus.CONFIRMED, None)
    assert [kind for kind, *_ in outbox(app, seminar["ahmet"])].count(MessageKind.PROMOTION) == 1
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "registration.promoted_by_office"))
        assert (entry.actor_user_id, entry.detail) == (staff["coordinator_id"], {"beyond_association_maximum": True})
        semi = db.session.get(Registration, seminar["ahmet"]).seminar
        third = make_registration(semi, first_name="Karin")
        db.session.commit()
        third_id = third.id
    assert registration(app, third_id)[0] == RegistrationStatus.WAITLISTED
    # full now: the capacity holds, with the reason beside the action
    response = client.post(f"/admin/registrations/{third_id}/promote",
                           data={"csrf_token": csrf_token(client, detail)})
    assert response.status_code == 302
    assert "All 2 places are taken" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert registration(app, third_id)[0] == RegistrationStatus.WAITLISTED
    # a double click on a done promotion changes nothing
    client.post(f"{detail}/promote", data={"csrf_token": csrf_token(client, detail)})
    assert [kind for kind, *_ in outbox(app, seminar["ahmet"])].count(MessageKind.PROMOTION) == 1


# --- resend -----------------------------------------------------------------------------------

def test_resending_records_new_emails_once_per_request(app, client, staff, seminar, smtp_server):
    with app.app_context():
        dispatch_pending()
    before = outbox(app, seminar["leyla"])
    log_in(client, staff["coordinator"])
    detail = f"/admin/registrations/{seminar['leyla']}"
    page = client.get(detail).get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', page).group(1)
    data = {"key": key, "csrf_token": csrf_token(client, detail)}
    assert client.post(f"{detail}/resend", data=data).status_code == 302
    assert client.post(f"{detail}/resend", data=data).status_code == 302  # a double click
    after = outbox(app, seminar["leyla"])
    new = after[len(before):]
    assert [kind for kind, *_ in new] == [MessageKind.CONFIRMATION, MessageKind.INVITATION, MessageKind.INVITATION]
    assert all(dedupe.endswith(f":resend-{key}") for _, _, dedupe, _ in new)
    with app.app_context():
        result = dispatch_pending()
    assert result.sent == 3
    assert sum(1 for m in smtp_server.messages if m["Subject"].startswith("Your place")) == 2
    # a new request (a new page) sends again
    page = client.get(detail).get_data(as_text=True)
    key2 = re.search(r'name="key" type="hidden" value="([^"]+)"', page).group(1)
    client.post(f"{detail}/resend", data={"key": key2, "csrf_token": csrf_token(client, detail)})
    assert len(outbox(app, seminar["leyla"])) == len(after) + 3
    bad = client.post(f"{detail}/resend", data={"key": "<script>", "csrf_token": csrf_token(client, detail)})
    assert bad.status_code == 302 and len(outbox(app, seminar["leyla"])) == len(after) + 3


def test_the_waiting_list_email_is_resent_for_someone_waiting(app, client, staff, seminar):
    log_in(client, staff["coordinator"])
    detail = f"/admin/registrations/{seminar['ahmet']}"
    page = client.get(detail).get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', page).group(1)
    client.post(f"{detail}/resend", data={"key": key, "csrf_token": csrf_token(client, detail)})
    assert [kind for kind, *_ in outbox(app, seminar["ahmet"])] == [MessageKind.WAITLISTED, MessageKind.WAITLISTED]


# --- register by hand -------------------------------------------------------------------------

def _new_form(client, seminar_id):
    path = f"/admin/seminars/{seminar_id}/registrations/new"
    page = client.get(path).get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', page).group(1)
    return path, {"csrf_token": csrf_token(client, path), "key": key}


def test_the_office_registers_one_person_with_the_public_rules_and_emails(app, client, staff, seminar):
    log_in(client, staff["coordinator"])
    path, hidden = _new_form(client, seminar["id"])
    data = hidden | {"association_id": "", "new_association": "Türkischer Elternverein",
                     "people-0-first_name": "Şükrü", "people-0-last_name": "Çelik",
                     "people-0-email": "sukru@example.net", "people-0-phone": "+49 69 1234",
                     "people-0-preferred_language": "tr", "people-0-needs": "Dolmetschen (Türkisch)",
                     "consent": "y"}
    response = client.post(path, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "1 person registered: 1 with a place" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        person = db.session.scalar(db.select(Registration).where(Registration.last_name == "Çelik"))
        assert (person.status, person.preferred_language, person.phone, person.needs, person.association.name) == \
            (RegistrationStatus.CONFIRMED, "tr", "+49 69 1234", "Dolmetschen (Türkisch)", "Türkischer Elternverein")
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.registration_id == person.id))
        assert (entry.action, entry.actor_kind, entry.actor_user_id) == \
            ("registration.created", "user", staff["coordinator_id"])
        person_id = person.id
    assert [kind for kind, *_ in outbox(app, person_id)] == \
        [MessageKind.CONFIRMATION, MessageKind.INVITATION, MessageKind.INVITATION]
    # the same form again (a double click): nobody is registered twice
    again = client.post(path, data=data)
    assert again.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Registration.id))
                                 .where(Registration.last_name == "Çelik")) == 1


def test_a_group_through_a_contact_and_a_refusal_beside_the_field(app, client, staff, seminar):
    log_in(client, staff["coordinator"])
    path, hidden = _new_form(client, seminar["id"])
    base = hidden | {"association_id": str(seminar["verein"]), "consent": "y",
                     "people-0-first_name": "Emre", "people-0-last_name": "Kaya", "people-0-email": "",
                     "people-0-preferred_language": "tr",
                     "people-1-first_name": "Leyla", "people-1-last_name": "Yılmaz",
                     "people-1-email": "leyla@example.net", "people-1-preferred_language": "de"}
    # without a contact a member needs an address
    missing = client.post(path, data=base)
    assert missing.status_code == 422
    assert "Please enter an email address, or the association contact" in missing.get_data(as_text=True)
    with_contact = base | {"contact_first_name": "Aylin", "contact_last_name": "Kaya",
                           "contact_email": "vorstand@verein.example"}
    refused = client.post(path, data=with_contact)
    assert refused.status_code == 422
    assert "This email address is already registered for this seminar." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Registration.id))) == 2  # nothing half-stored
    ok = client.post(path, data=with_contact | {"people-1-email": "gul@example.net", "people-1-first_name": "Gül"})
    assert ok.status_code == 302
    with app.app_context():
        emre = db.session.scalar(db.select(Registration).where(Registration.first_name == "Emre"))
        assert emre.registered_by.email == "vorstand@verein.example" and emre.email is None
        assert emre.status == RegistrationStatus.WAITLISTED  # the association is at its maximum
    assert [kind for kind, *_ in outbox(app, kind=MessageKind.GROUP_REGISTERED)] == [MessageKind.GROUP_REGISTERED]


def test_adding_a_row_keeps_what_was_typed(app, client, staff, seminar):
    log_in(client, staff["coordinator"])
    path, hidden = _new_form(client, seminar["id"])
    response = client.post(path, data=hidden | {"people-0-first_name": "Emre", "add_row": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="Emre"' in page and "Person 2" in page


# --- writing to participants ------------------------------------------------------------------

def test_writing_to_participants_confirms_the_count_then_sends_in_each_language(app, client, staff, seminar,
                                                                              smtp_server):
    with app.app_context():
        semi = db.session.get(Registration, seminar["leyla"]).seminar
        semi.capacity = 10
        associations.register_group(
            semi, ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                                 preferred_language="tr"),
            [make_applicant(first_name="Emre", email=None, preferred_language="tr")], make_association("Anadolu"))
        db.session.commit()
        dispatch_pending()
    sent_before = len(smtp_server.messages)
    log_in(client, staff["coordinator"])
    path = f"/admin/seminars/{seminar['id']}/message"
    page = client.get(path).get_data(as_text=True)
    assert "Everyone with a place (2 people)" in page
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token(client, path), "key": key, "audience": "confirmed",
            "subject": "Raumänderung", "body": "Wir treffen uns in Raum <3>.\n\nBis bald!"}
    confirm = client.post(path, data=data)
    assert confirm.status_code == 200
    assert "Send this message to 2 people?" in confirm.get_data(as_text=True)
    assert outbox(app, kind=MessageKind.OFFICE_MESSAGE) == []
    # the count changed meanwhile: asked again, nothing sent
    stale = client.post(path, data=data | {"send": "Send", "expected": "5"})
    assert stale.status_code == 409 and outbox(app, kind=MessageKind.OFFICE_MESSAGE) == []
    sent = client.post(path, data=data | {"send": "Send", "expected": "2"})
    assert sent.status_code == 302
    assert client.post(path, data=data | {"send": "Send", "expected": "2"}).status_code == 302  # twice
    rows = outbox(app, kind=MessageKind.OFFICE_MESSAGE)
    assert sorted(recipient for _, recipient, _, _ in rows) == ["leyla@example.net", "vorstand@verein.example"]
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "seminar.participants_messaged"))
        assert (entry.actor_user_id, entry.detail["emails"], entry.detail["audience"]) == \
            (staff["coordinator_id"], 2, "confirmed")
        dispatch_pending()
    new = smtp_server.messages[sent_before:]
    leyla = next(m for m in new if m["To"] == "leyla@example.net")
    assert leyla["Subject"] == "Raumänderung"
    text = leyla.get_body(("plain",)).get_content()
    assert "Hello Leyla Yılmaz," in text and "Wir treffen uns in Raum <3>." in text and "/registrations/" in text
    html = leyla.get_body(("html",)).get_content()
    assert "Raum &lt;3&gt;." in html and "Raum <3>" not in html
    contact = next(m for m in new if m["To"] == "vorstand@verein.example")
    assert "Emre" in contact["Subject"] and "Raumänderung" in contact["Subject"]


def test_an_empty_message_is_refused_beside_its_fields(app, client, staff, seminar):
    log_in(client, staff["coordinator"])
    path = f"/admin/seminars/{seminar['id']}/message"
    page = client.get(path).get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "key": key, "audience": "everyone",
                                       "subject": "", "body": "", "send": "Send", "expected": "1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please enter a subject." in page and "Please write the message." in page
    assert outbox(app, kind=MessageKind.OFFICE_MESSAGE) == []


def test_an_office_message_to_someone_who_cancelled_before_it_went_out_is_skipped(app, staff, seminar):
    from booking.registrations import services as registrations

    with app.app_context():
        semi = db.session.get(Registration, seminar["leyla"]).seminar
        assert registrations.message_participants(semi, audience="both", subject="Raum", body="Raum 3",
                                                  key="messagekey1") == 2
        assert registrations.message_participants(semi, audience="both", subject="Raum", body="Raum 3",
                                                  key="messagekey1") == 0  # the same sending again
        registrations.cancel_registration(db.session.get(Registration, seminar["ahmet"]))
        db.session.commit()
        dispatch_pending()
        states = {m.registration_id: (m.status, m.skip_reason) for m in db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.OFFICE_MESSAGE))}
    assert states[seminar["leyla"]] == (MessageStatus.SENT, None)
    assert states[seminar["ahmet"]] == (MessageStatus.SKIPPED, "the registration was cancelled before this went out")
