"""The seminar page and the registration form: success, waiting list, and every kind of bad input."""
import re
from datetime import timedelta

import pytest

from booking.associations.models import Association
from booking.extensions import db
from booking.registrations.models import Registration, RegistrationStatus
from booking.registrations.services import manage_token
from booking.seminars.models import Seminar, SeminarStatus, SessionStatus

from tests.factories import csrf_token, make_association, make_registration, make_seminar, now


def seeded(app, build):
    with app.app_context():
        result = build()
        db.session.commit()
        return result


def rows(app) -> list[Registration]:
    with app.app_context():
        return list(db.session.scalars(db.select(Registration).order_by(Registration.id)))


def association_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(Association.name).order_by(Association.id)))


def field_error(page: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', page, re.S)
    return match.group(1).strip() if match else None


@pytest.fixture
def seminar_slug(app):
    return seeded(app, lambda: make_seminar(capacity=2, slug="vereinsrecht").slug)


@pytest.fixture
def verein_id(app):
    return seeded(app, lambda: make_association("Deutsch-Türkischer Kulturverein").id)


def valid_form(client, slug, association, **overrides):
    form = {
        "csrf_token": csrf_token(client, f"/seminars/{slug}"),
        "first_name": "Leyla",
        "last_name": "Yılmaz",
        "email": "leyla@example.net",
        "phone": "+49 69 123456",
        "association_id": str(association),
        "new_association": "",
        "preferred_language": "en",
        "needs": "Kinderbetreuung",
        "consent": "y",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


# --- the seminar page ---------------------------------------------------------------------------

def test_seminar_page_shows_everything_and_the_form(app, client):
    def build():
        seminar = make_seminar(title="Kassenführung im Verein", slug="kasse", trainer="Dr. Mehmet Kaya",
                               languages="de tr", capacity=12, max_per_association=3,
                               registration_deadline=now() + timedelta(days=3), sessions=3)
        seminar.sessions[1].status = SessionStatus.CANCELLED
        make_association("Afghanischer Kulturverein")

    seeded(app, build)
    page = client.get("/seminars/kasse").get_data(as_text=True)
    assert "<h1>Kassenführung im Verein</h1>" in page
    for text in ("Dr. Mehmet Kaya", "German and Turkish", "Haus der Vereine", "Bieberer Straße 1",
                 "openstreetmap.org/search?query=Bieberer", "Register by", "12 places left",
                 "at most 3 per association", "Afghanischer Kulturverein", 'href="/privacy"'):
        assert text in page, text
    sessions = re.findall(r'<li class="session([^"]*)">', page)
    assert sessions == ["", " session-cancelled", ""]
    assert '<form method="post" action="/seminars/kasse/register"' in page
    for autocomplete in ("given-name", "family-name", "email", "tel"):
        assert f'autocomplete="{autocomplete}"' in page


def test_online_seminar_keeps_its_link_for_participants(app, client):
    seminar = seeded(app, lambda: make_seminar(slug="online", venue_name="", venue_address="",
                                               online_url="https://meet.example.org/verein"))
    page = client.get("/seminars/online").get_data(as_text=True)
    assert "You can take part online" in page
    assert "https://meet.example.org/verein" not in page  # only people with a place get the link
    assert "Show on map" not in page
    with app.app_context():
        registration = make_registration(db.session.merge(seminar))
        db.session.commit()
        token = manage_token(registration)
    assert 'href="https://meet.example.org/verein"' in client.get(f"/registrations/{token}").get_data(as_text=True)


@pytest.mark.parametrize("slug", ["no-such-seminar", "draft"])
def test_unknown_or_draft_seminar_is_404(app, client, slug):
    seeded(app, lambda: make_seminar(slug="draft", status=SeminarStatus.DRAFT))
    response = client.get(f"/seminars/{slug}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert client.post(f"/seminars/{slug}/register", data={}).status_code == 404


@pytest.mark.parametrize("change, message", [
    ({"status": SeminarStatus.CANCELLED}, "This seminar has been cancelled."),
    ({"registration_deadline": now() - timedelta(minutes=5)}, "The registration deadline for this seminar has passed."),
])
def test_closed_seminar_shows_why_and_no_form(app, client, change, message):
    seeded(app, lambda: make_seminar(slug="closed", **change))
    page = client.get("/seminars/closed").get_data(as_text=True)
    assert message in page
    assert 'action="/seminars/closed/register"' not in page


def test_posting_to_a_seminar_closed_meanwhile_stores_nothing(app, client, verein_id):
    slug = seeded(app, lambda: make_seminar(slug="open-then-closed").slug)
    data = valid_form(client, slug, verein_id)  # the form was opened while registration was open

    def close():
        db.session.scalar(db.select(Seminar).filter_by(slug=slug)).registration_deadline = now() - timedelta(seconds=1)

    seeded(app, close)
    response = client.post(f"/seminars/{slug}/register", data=data)
    assert response.status_code == 409
    assert "The registration deadline for this seminar has passed." in response.get_data(as_text=True)
    assert rows(app) == []


# --- success -------------------------------------------------------------------------------------

def test_registration_gives_a_place_and_leads_to_the_manage_page(app, client, seminar_slug, verein_id):
    response = client.post(f"/seminars/{seminar_slug}/register",
                           data=valid_form(client, seminar_slug, verein_id, preferred_language="tr"))
    assert response.status_code == 302
    assert re.fullmatch(r"/registrations/[\w-]+\.[\w-]+", response.location)

    [registration] = rows(app)
    assert registration.status == RegistrationStatus.CONFIRMED
    assert (registration.first_name, registration.last_name, registration.email) == ("Leyla", "Yılmaz", "leyla@example.net")
    assert (registration.phone, registration.preferred_language, registration.needs) == ("+49 69 123456", "tr", "Kinderbetreuung")
    assert registration.association_id == verein_id
    assert registration.consent_at is not None

    page = client.get(response.location).get_data(as_text=True)
    # the page after the form stays in the language of the visit (Turkish is for the emails)
    assert 'lang="en"' in page
    assert "Thank you! Your registration for “Seminar" in page and 'role="status"' in page
    assert page.count("You have a place") == 1, "the status is said once"
    assert response.location in page  # the personal link itself is shown


def test_full_seminar_puts_people_on_the_waiting_list_with_their_number(app, client, verein_id):
    def build():
        seminar = make_seminar(capacity=1, slug="full")
        make_registration(seminar)
        make_registration(seminar)  # number 1 on the waiting list
        return seminar.slug

    slug = seeded(app, build)
    response = client.post(f"/seminars/{slug}/register", data=valid_form(client, slug, verein_id), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert page.count("You are number 2 on the waiting list.") == 1
    assert "All places are taken." in page
    assert rows(app)[-1].status == RegistrationStatus.WAITLISTED


def test_association_maximum_says_why_someone_waits(app, client, verein_id):
    def build():
        seminar = make_seminar(capacity=10, max_per_association=1, slug="limited")
        make_registration(seminar, db.session.get(Association, verein_id))
        return seminar.slug

    slug = seeded(app, build)
    page = client.post(f"/seminars/{slug}/register", data=valid_form(client, slug, verein_id),
                       follow_redirects=True).get_data(as_text=True)
    assert "You are number 1 on the waiting list" in page
    assert "Your association already has the maximum number of places" in page


def test_new_association_name_is_matched_ignoring_case_and_spaces(app, client, seminar_slug, verein_id):
    data = valid_form(client, seminar_slug, "", new_association="  deutsch-türkischer   KULTURVEREIN ")
    assert client.post(f"/seminars/{seminar_slug}/register", data=data).status_code == 302
    assert rows(app)[0].association_id == verein_id
    assert association_names(app) == ["Deutsch-Türkischer Kulturverein"]


def test_a_new_association_is_created_once(app, client, seminar_slug, verein_id):
    data = valid_form(client, seminar_slug, "", new_association="  Eritreische  Gemeinde ")
    assert client.post(f"/seminars/{seminar_slug}/register", data=data).status_code == 302
    data = valid_form(client, seminar_slug, "", new_association="eritreische gemeinde", email="other@example.net")
    assert client.post(f"/seminars/{seminar_slug}/register", data=data).status_code == 302
    assert association_names(app) == ["Deutsch-Türkischer Kulturverein", "Eritreische Gemeinde"]
    first, second = rows(app)
    assert first.association_id == second.association_id != verein_id


# --- bad input -----------------------------------------------------------------------------------

BAD_INPUT = [
    pytest.param({"first_name": "  "}, "first_name", "Please enter your first name.", id="missing-first-name"),
    pytest.param({"last_name": None}, "last_name", "Please enter your last name.", id="missing-last-name"),
    pytest.param({"last_name": "x" * 101}, "last_name", "Please use at most 100 characters.", id="long-last-name"),
    pytest.param({"email": ""}, "email", "Please enter your email address.", id="missing-email"),
    pytest.param({"email": "leyla@"}, "email", "Please enter a valid email address", id="invalid-email"),
    pytest.param({"email": "a" * 250 + "@example.net"}, "email", "Please use at most 254 characters.", id="long-email"),
    pytest.param({"phone": "call me maybe"}, "phone", "Please enter a phone number", id="bad-phone"),
    pytest.param({"phone": "1" * 41}, "phone", "Please use at most 40 characters.", id="long-phone"),
    pytest.param({"consent": None}, "consent", "Please agree to the privacy notice", id="no-consent"),
    pytest.param({"association_id": "999999"}, "association_id", "Please choose your association from the list.",
                 id="unknown-association-id"),
    pytest.param({"association_id": "1 OR 1=1"}, "association_id", "Please choose your association from the list.",
                 id="tampered-association-id"),
    pytest.param({"association_id": ""}, "association_id", "Please choose your association from the list or type",
                 id="no-association"),
    pytest.param({"new_association": "x" * 201}, "new_association", "Please use at most 200 characters.",
                 id="long-association-name"),
    pytest.param({"new_association": "Ganz anderer Verein"}, "new_association", "Please keep only one.",
                 id="two-associations"),
    pytest.param({"preferred_language": "xx"}, "preferred_language", "Not a valid choice", id="tampered-language"),
    pytest.param({"needs": "x" * 2001}, "needs", "Please use at most 2000 characters.", id="long-needs"),
]


@pytest.mark.parametrize("overrides, field, message", BAD_INPUT)
def test_bad_input_is_refused_beside_the_field_and_stores_nothing(
        app, client, seminar_slug, verein_id, overrides, field, message):
    data = valid_form(client, seminar_slug, verein_id, **overrides)
    response = client.post(f"/seminars/{seminar_slug}/register", data=data)
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert message in (field_error(page, field) or "")
    assert f'aria-describedby="{field}-error"' in page or f'-hint {field}-error"' in page
    assert 'class="error-summary" role="alert"' in page and f'href="#{field}"' in page
    # what was typed is kept
    if field != "first_name":
        assert 'value="Leyla"' in page
    if field not in ("email",):
        assert 'value="leyla@example.net"' in page
    assert rows(app) == []
    assert association_names(app) == ["Deutsch-Türkischer Kulturverein"]


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_missing_or_wrong_csrf_token_is_refused_and_keeps_what_was_typed(
        app, client, seminar_slug, verein_id, token):
    data = valid_form(client, seminar_slug, verein_id, csrf_token=token, new_association="")
    response = client.post(f"/seminars/{seminar_slug}/register", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "For your security this form has expired." in page
    assert 'value="Leyla"' in page and 'value="leyla@example.net"' in page
    assert rows(app) == []
    # the page carries a fresh token, so sending it again works
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data["csrf_token"] = fresh
    assert client.post(f"/seminars/{seminar_slug}/register", data=data).status_code == 302
    assert len(rows(app)) == 1


def test_a_token_from_another_browser_session_is_refused(app, seminar_slug, verein_id):
    first, second = app.test_client(), app.test_client()
    data = valid_form(first, seminar_slug, verein_id)
    second.get(f"/seminars/{seminar_slug}")
    assert second.post(f"/seminars/{seminar_slug}/register", data=data).status_code == 422
    assert rows(app) == []


# --- an address registered already: a neutral answer, the existing link by email ---------------

NEUTRAL = ("We have sent an email to {email}. It contains your personal link: there you see your "
           "registration and can cancel it.")


def flash_text(page: str) -> str:
    return re.search(r'<p class="flash[^>]*>(.*?)</p>', page, re.S).group(1).strip()


def test_same_email_twice_is_answered_neutrally_and_the_existing_link_is_emailed_once_an_hour(
        app, client, seminar_slug, verein_id, smtp_server):
    from booking.mail.dispatcher import dispatch_pending

    first = client.post(f"/seminars/{seminar_slug}/register", data=valid_form(client, seminar_slug, verein_id))
    assert first.status_code == 302
    with app.app_context():
        dispatch_pending()
        existing_link = f"/registrations/{manage_token(rows(app)[0])}"
    before = len(smtp_server.messages)

    data = valid_form(client, seminar_slug, "", email=" LEYLA@example.net ", first_name="Other",
                      new_association="Brand New Verein")
    response = client.post(f"/seminars/{seminar_slug}/register", data=data)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/seminars/{seminar_slug}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert flash_text(page) == NEUTRAL.format(email="LEYLA@example.net")
    assert "already registered" not in page and "Other" not in page
    # nothing new stored: the registration, nor the association typed with it
    [registration] = rows(app)
    assert registration.first_name == "Leyla"
    assert association_names(app) == ["Deutsch-Türkischer Kulturverein"]

    with app.app_context():
        assert dispatch_pending().sent == 1
    [email] = smtp_server.messages[before:]
    assert email["To"] == "leyla@example.net" and email["Subject"] == "Your personal links"
    text = email.get_body(("plain",)).get_content()
    assert existing_link in text
    assert "Someone has just tried to register this email address for the seminar" in text

    # within the hour: the same answer, and no further email
    again = client.post(f"/seminars/{seminar_slug}/register",
                        data=valid_form(client, seminar_slug, verein_id, email="leyla@EXAMPLE.net"))
    assert again.status_code == 302 and again.headers["Location"] == f"/seminars/{seminar_slug}"
    assert flash_text(client.get(again.headers["Location"]).get_data(as_text=True)) == \
        NEUTRAL.format(email="leyla@example.net")  # the domain as stored: lower case
    with app.app_context():
        assert dispatch_pending().handled == 0
    assert len(smtp_server.messages) == before + 1
    assert len(rows(app)) == 1


def test_after_cancelling_the_same_address_registers_again(app, client, seminar_slug, verein_id):
    assert client.post(f"/seminars/{seminar_slug}/register",
                       data=valid_form(client, seminar_slug, verein_id)).status_code == 302
    with app.app_context():
        from booking.registrations.services import cancel_registration
        cancel_registration(db.session.scalar(db.select(Registration)))
        db.session.commit()
    response = client.post(f"/seminars/{seminar_slug}/register", data=valid_form(client, seminar_slug, verein_id))
    assert response.status_code == 302 and response.headers["Location"].startswith("/registrations/")
    assert [r.status for r in rows(app)] == [RegistrationStatus.CANCELLED, RegistrationStatus.CONFIRMED]


def test_a_valid_registration_reads_no_association_list_and_takes_no_savepoint(app, client, seminar_slug, verein_id):
    """The list is read only to show the form; one person is inserted without a savepoint (the
    unique index's last line of defence makes the attempt again: test_associations_group_enumeration)."""
    from tests.test_performance_page_cache import counted_statements

    data = valid_form(client, seminar_slug, verein_id)
    with counted_statements(app) as statements:
        assert client.post(f"/seminars/{seminar_slug}/register", data=data).status_code == 302
    flat = [" ".join(statement.split()) for statement in statements]
    assert not [s for s in flat if "FROM associations WHERE associations.status" in s]
    assert not [s for s in flat if "SAVEPOINT" in s]
    assert [(r.status, r.association_id) for r in rows(app)] == [(RegistrationStatus.CONFIRMED, verein_id)]


def test_an_association_the_office_accepts_is_offered_and_taken_on_the_next_form(
        app, client, seminar_slug, verein_id):
    from booking.associations import services as associations
    from booking.associations.models import AssociationStatus

    # an association pending until the office accepts it: refused, then chosen at once
    pending_id = seeded(app, lambda: make_association("Eritreische Gemeinde", status=AssociationStatus.PENDING).id)
    data = valid_form(client, seminar_slug, pending_id)
    page = client.post(f"/seminars/{seminar_slug}/register", data=data).get_data(as_text=True)
    assert field_error(page, "association_id") == "Please choose your association from the list."
    assert "Eritreische Gemeinde</option>" not in page and '<option value="Eritreische Gemeinde">' not in page
    with app.app_context():
        associations.accept_association(db.session.get(Association, pending_id))
        db.session.commit()
    # the next form offers it
    page = client.post(f"/seminars/{seminar_slug}/register",
                       data=valid_form(client, seminar_slug, pending_id, first_name="  ")).get_data(as_text=True)
    assert f'<option selected value="{pending_id}">Eritreische Gemeinde</option>' in page
    data = valid_form(client, seminar_slug, pending_id)
    assert client.post(f"/seminars/{seminar_slug}/register", data=data).status_code == 302
    assert [row.association_id for row in rows(app)] == [pending_id]
