"""Group registration by an association's contact: the rules, the contact's link and page."""
import re

import pytest

from booking.associations import services as associations
from booking.associations.models import AssociationContact
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail.models import MessageKind, OutboxMessage
from booking.registrations import services as registrations
from booking.registrations.models import Registration, RegistrationStatus, WaitlistReason

from tests.factories import csrf_token, make_applicant, make_association, make_registration, make_seminar


def contact_details(**overrides) -> ContactDetails:
    values = {"first_name": "Aylin", "last_name": "Kaya", "email": "vorstand@verein.example",
              "phone": None, "preferred_language": "en"} | overrides
    return ContactDetails(**values)


def members(count, **overrides):
    return [make_applicant(first_name=f"Member{i}", **overrides) for i in range(1, count + 1)]


def outbox(kind=None):
    query = db.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def seeded(app, build):
    with app.app_context():
        result = build()
        db.session.commit()
        return result


# --- the rules --------------------------------------------------------------------------------

def test_group_of_five_with_three_places_left(app_ctx):
    seminar = make_seminar(capacity=4)
    make_registration(seminar)
    people = members(5)

    rows = associations.register_group(seminar, contact_details(), people, make_association())

    assert [r.first_name for r in rows] == [p.first_name for p in people]
    assert [r.status for r in rows] == [RegistrationStatus.CONFIRMED] * 3 + [RegistrationStatus.WAITLISTED] * 2
    assert [registrations.waitlist_position(r) for r in rows[3:]] == [1, 2]
    assert {r.waitlist_reason for r in rows[3:]} == {WaitlistReason.FULL}
    contact = db.session.scalar(db.select(AssociationContact))
    assert all(r.registered_by is contact for r in rows)


def test_association_maximum_applies_within_the_group_with_the_reason(app_ctx):
    seminar = make_seminar(capacity=10, max_per_association=2)

    rows = associations.register_group(seminar, contact_details(), members(4), make_association())

    assert [r.status for r in rows] == [RegistrationStatus.CONFIRMED] * 2 + [RegistrationStatus.WAITLISTED] * 2
    assert [r.waitlist_reason for r in rows[2:]] == [WaitlistReason.ASSOCIATION_LIMIT] * 2


def test_one_contact_per_email_address_and_their_details_are_not_overwritten(app_ctx):
    seminar = make_seminar()
    association = make_association()
    associations.register_group(seminar, contact_details(), members(1), association)
    associations.register_group(seminar, contact_details(first_name="Someone", email=" VORSTAND@verein.example "),
                                members(1), association)

    contacts = list(db.session.scalars(db.select(AssociationContact)))
    assert [(c.first_name, c.email) for c in contacts] == [("Aylin", "vorstand@verein.example")]
    assert len(associations.contact_registrations(contacts[0])) == 2


@pytest.mark.parametrize("emails, bad_index", [
    (["a@example.net", None, "A@Example.net "], 2),
    (["a@example.net", "taken@example.net", "c@example.net"], 1),
])
def test_duplicates_refuse_the_whole_group_naming_the_row(app_ctx, emails, bad_index):
    seminar = make_seminar()
    make_registration(seminar, email="taken@example.net")
    db.session.commit()

    with pytest.raises(registrations.DuplicateRegistration) as refused:
        associations.register_group(seminar, contact_details(), [make_applicant(email=e) for e in emails],
                                    make_association())
    db.session.rollback()

    assert refused.value.index == bad_index
    assert db.session.scalar(db.select(db.func.count(Registration.id))) == 1
    assert db.session.scalar(db.select(db.func.count(AssociationContact.id))) == 0


def test_members_without_email_may_share_a_seminar_and_only_a_contact_may_register_them(app_ctx):
    seminar = make_seminar()
    rows = associations.register_group(seminar, contact_details(), members(3, email=None), make_association())
    assert [r.email for r in rows] == [None, None, None]

    with pytest.raises(ValueError):
        registrations.register(seminar, make_applicant(email=None), None)


def test_group_records_the_members_messages_and_one_overview_for_the_contact(app_ctx):
    seminar = make_seminar(sessions=2, capacity=1)
    rows = associations.register_group(seminar, contact_details(),
                                       [make_applicant(email=None), make_applicant(email="own@example.net"),
                                        make_applicant(email=None)],
                                       make_association())

    # members without an address: nothing of their own, the overview covers them
    assert [(m.kind, m.recipient) for m in outbox() if m.registration_id in (rows[0].id, rows[2].id)] == []
    assert [(m.kind, m.recipient) for m in outbox() if m.registration_id == rows[1].id] == [
        (MessageKind.WAITLISTED, "own@example.net")]
    [overview] = outbox(MessageKind.GROUP_REGISTERED)
    assert overview.recipient == "vorstand@verein.example"
    assert overview.facts == {"registration_ids": [rows[0].id, rows[1].id, rows[2].id]}
    assert len(outbox()) == 2


# --- the contact's link -----------------------------------------------------------------------

@pytest.fixture
def contact_setup(app):
    """Aylin registered three members for one seminar (capacity 3) and one for another; a stranger and
    another contact registered too. Returns ids and her token."""
    def build():
        first = make_seminar(capacity=3, slug="vereinsrecht", title="Vereinsrecht")
        second = make_seminar(capacity=5, slug="kasse", title="Kassenführung")
        verein = make_association("Kulturverein")
        mine = associations.register_group(
            first, contact_details(), [make_applicant(first_name="Ali", email=None),
                                       make_applicant(first_name="Berna"), make_applicant(first_name="Cem")],
            verein)
        waiting = make_registration(first, first_name="Derya")
        mine += associations.register_group(second, contact_details(), [make_applicant(first_name="Emre")], verein)
        associations.register_group(second, contact_details(email="other@verein.example"),
                                    [make_applicant(first_name="Fatma")], verein)
        contact = mine[0].registered_by
        return {"token": associations.contact_token(contact), "mine": [r.public_id for r in mine],
                "waiting": waiting.id, "ali": mine[0].public_id}
    return seeded(app, build)


def test_contact_page_lists_exactly_their_registrations(client, contact_setup):
    response = client.get(f"/associations/contact/{contact_setup['token']}")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    names = re.findall(r"<td[^>]*>(\w+) Yılmaz \d+</td>", page)
    assert names == ["Emre", "Ali", "Berna", "Cem"] or names == ["Ali", "Berna", "Cem", "Emre"]
    assert "Derya" not in page and "Fatma" not in page
    assert "you (no email address of their own)" in page
    assert page.count("Register further members for this seminar") == 2
    # every session of each seminar, not the first only
    assert len(re.findall(r'<li class="session">', page)) == 4  # two seminars of two sessions


def test_contact_cancels_a_member_and_the_next_waiting_person_gets_the_place(app, client, contact_setup):
    token = contact_setup["token"]
    cancel_url = f"/associations/contact/{token}/registrations/{contact_setup['ali']}/cancel"
    assert cancel_url in client.get(f"/associations/contact/{token}").get_data(as_text=True)

    confirm = client.get(cancel_url)
    assert confirm.status_code == 200
    assert "Cancel this registration?" in confirm.get_data(as_text=True)
    response = client.post(cancel_url, data={"csrf_token": csrf_token(client, cancel_url)})

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "has been cancelled" in page
    with app.app_context():
        ali = db.session.scalar(db.select(Registration).where(Registration.public_id == contact_setup["ali"]))
        assert ali.status == RegistrationStatus.CANCELLED
        assert db.session.get(Registration, contact_setup["waiting"]).status == RegistrationStatus.CONFIRMED
        assert [m.kind for m in outbox() if m.registration_id == contact_setup["waiting"]][-3:] == \
            [MessageKind.PROMOTION, MessageKind.INVITATION, MessageKind.INVITATION]


def test_cancel_without_csrf_token_changes_nothing(app, client, contact_setup):
    url = f"/associations/contact/{contact_setup['token']}/registrations/{contact_setup['ali']}/cancel"
    assert client.post(url, data={}).status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(Registration.status).where(
            Registration.public_id == contact_setup["ali"])) == RegistrationStatus.CONFIRMED


def test_wrong_or_revoked_token_and_someone_elses_registration_are_404(app, client, contact_setup):
    token = contact_setup["token"]
    public_id, mac = token.split(".")
    for bad in (f"{public_id}.{'A' * len(mac)}", "nonsense", f"x{token}", "lost-link"):
        assert client.get(f"/associations/contact/{bad}").status_code == 404
        assert client.get(f"/associations/contact/{bad}/calendar.ics").status_code == 404
    with app.app_context():
        stranger = db.session.scalar(db.select(Registration).where(Registration.registered_by_contact_id.is_(None)))
        stranger_url = f"/associations/contact/{token}/registrations/{stranger.public_id}/cancel"
    assert client.get(stranger_url).status_code == 404
    with app.app_context():
        associations.revoke_contact_links(db.session.scalar(db.select(AssociationContact).order_by(AssociationContact.id)))
        db.session.commit()
    assert client.get(f"/associations/contact/{token}").status_code == 404


def test_contact_feed_has_the_sessions_with_places_and_an_etag(client, contact_setup):
    url = f"/associations/contact/{contact_setup['token']}/calendar.ics"
    response = client.get(url)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.get_data(as_text=True)
    # Ali, Berna and Cem (2 sessions each) and Emre (2 sessions); summaries name the member
    assert body.count("BEGIN:VEVENT") == 8
    assert "SUMMARY:Vereinsrecht – Ali Yılmaz" in body.replace("\r\n ", "")
    etag = response.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_contact_adds_further_members_from_their_page(app, client, contact_setup):
    token = contact_setup["token"]
    url = f"/associations/contact/{token}/seminars/kasse/group"
    page = client.get(url).get_data(as_text=True)
    assert "Your email address" not in page  # the contact is known
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "association_id": "", "new_association": "Kulturverein",
        "participants-0-first_name": "Gül", "participants-0-last_name": "Aydın",
        "participants-0-email": "", "participants-0-preferred_language": "tr", "consent": "y",
    })

    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/associations/contact/{token}")
    assert "Gül Aydın" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        gul = db.session.scalar(db.select(Registration).where(Registration.first_name == "Gül"))
        assert gul.registered_by.email == "vorstand@verein.example"
        assert gul.status == RegistrationStatus.CONFIRMED


# --- the coordinator's view (command line until the workspace exists) --------------------------

def test_registrations_command_shows_who_registered_and_the_group(app):
    def build():
        seminar = make_seminar(slug="vereinsrecht")
        make_registration(seminar, first_name="Selbst", email="selbst@example.net")
        associations.register_group(seminar, contact_details(), [make_applicant(first_name="Ali", email=None),
                                                                 make_applicant(first_name="Berna")],
                                    make_association("Kulturverein"))
    seeded(app, build)

    result = app.test_cli_runner().invoke(args=["booking", "registrations", "vereinsrecht", "--csv"])

    assert result.exit_code == 0, result.output
    # the workspace's CSV for German Excel (booking.registrations.exports): BOM, ';' between cells
    lines = result.output.removeprefix("\ufeff").strip().splitlines()
    assert lines[0].split(";")[11:13] == ["Registered by", "Contact's email"]
    self_row, ali, berna = (line.split(";") for line in lines[1:])
    assert self_row[3] == "Selbst" and self_row[11:13] == ["Self", ""]
    assert ali[3] == "Ali" and ali[6] == "" and ali[5] == "Kulturverein"
    assert ali[11:13] == berna[11:13] == ["Aylin Kaya", "vorstand@verein.example"]
    table = app.test_cli_runner().invoke(args=["booking", "registrations", "vereinsrecht"]).output
    assert "group " in table  # the table still shows who came in one submission
    assert app.test_cli_runner().invoke(args=["booking", "registrations", "nope"]).exit_code != 0
