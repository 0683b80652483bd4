"""The honeypot on the public forms: a field people never see; a submission that fills it is dropped
without a hint (a normal-looking redirect), nothing stored, no email, one log line."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from booking.associations.models import AssociationContact, LinkRequest
from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail.models import OutboxMessage
from booking.registrations.models import Registration

from tests.factories import csrf_token, make_applicant, make_association, make_registration, make_seminar

BOT_TEXT = "http://cheap-pills.example"


@pytest.fixture
def setup(app):
    with app.app_context():
        seminar = make_seminar(slug="vereinsrecht", capacity=20)
        make_registration(seminar, email="leyla@example.net")
        first = associations.register_group(
            make_seminar(), ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                                           phone=None, preferred_language="en"),
            [make_applicant()], make_association("Kulturverein"))
        token = associations.contact_token(first[0].registered_by)
        db.session.commit()
        return {"slug": "vereinsrecht", "token": token}


def registration_post(client, slug):
    return f"/seminars/{slug}", f"/seminars/{slug}/register", {
        "first_name": "Bot", "last_name": "Botson", "email": "bot@spam.example", "preferred_language": "de",
        "new_association": "Spam e.V.", "consent": "y"}


def group_post(client, slug):
    url = f"/seminars/{slug}/group"
    return url, url, {
        "contact_first_name": "Bot", "contact_last_name": "Botson", "contact_email": "bot@spam.example",
        "new_association": "Spam e.V.", "participants-0-first_name": "Gül", "participants-0-last_name": "Aydın",
        "participants-0-email": "gul@spam.example", "participants-0-preferred_language": "tr", "consent": "y"}


def contact_group_post(client, slug, token):
    url = f"/associations/contact/{token}/seminars/{slug}/group"
    return url, url, {
        "new_association": "Kulturverein", "participants-0-first_name": "Gül", "participants-0-last_name": "Aydın",
        "participants-0-email": "gul@spam.example", "participants-0-preferred_language": "tr", "consent": "y"}


def lost_link_post(client, slug):
    return "/lost-link", "/lost-link", {"email": "leyla@example.net"}


FORMS = {
    "public.register": registration_post,
    "associations.group": group_post,
    "associations.contact_group": contact_group_post,
    "public.lost_link": lost_link_post,
}


def stored():
    return {model.__tablename__: db.session.scalar(db.select(db.func.count()).select_from(model))
            for model in (Registration, AssociationContact, OutboxMessage, LinkRequest)}


def post(client, setup, endpoint, **extra):
    build = FORMS[endpoint]
    page, action, data = (build(client, setup["slug"], setup["token"]) if endpoint == "associations.contact_group"
                          else build(client, setup["slug"]))
    return client.post(action, data={"csrf_token": csrf_token(client, page)} | data | extra)


@pytest.mark.parametrize("endpoint", FORMS)
def test_every_public_form_has_the_hidden_field(client, setup, endpoint):
    page_url = {"public.register": f"/seminars/{setup['slug']}",
                "associations.group": f"/seminars/{setup['slug']}/group",
                "associations.contact_group": f"/associations/contact/{setup['token']}/seminars/{setup['slug']}/group",
                "public.lost_link": "/lost-link"}[endpoint]
    page = client.get(page_url).get_data(as_text=True)

    trap = re.search(r'<div class="trap">\s*<label for="website">(.*?)</label>\s*<input ([^>]*)>', page)
    assert trap, page
    assert trap.group(1) == "Leave this field empty"
    assert 'tabindex="-1"' in trap.group(2) and 'autocomplete="off"' in trap.group(2)
    assert 'name="website"' in trap.group(2) and "style=" not in trap.group(2)  # the CSP forbids inline styles


def test_the_stylesheet_hides_the_field():
    css = (Path(__file__).resolve().parent.parent / "booking" / "static" / "css" / "booking.css").read_text()
    rule = re.search(r"\.trap \{([^}]*)\}", css)
    assert rule and "position: absolute" in rule.group(1) and "clip" in rule.group(1)


@pytest.mark.parametrize("endpoint", FORMS)
def test_a_filled_honeypot_drops_the_submission_without_a_hint(app, client, setup, endpoint, caplog):
    with app.app_context():
        before = stored()

    with caplog.at_level(logging.INFO):
        response = post(client, setup, endpoint, website=BOT_TEXT)

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you. Please check your email." in page
    assert "Please check your entries" not in page
    with app.app_context():
        assert stored() == before  # no registration, no contact, no email, no link request
    lines = [r.getMessage() for r in caplog.records if "honeypot" in r.getMessage()]
    assert lines == [f"honeypot filled: submission to {endpoint} dropped"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for personal in ("bot@spam.example", "leyla@example.net", "Botson", "Aydın", BOT_TEXT, setup["token"]):
        assert personal not in logged


@pytest.mark.parametrize("endpoint", FORMS)
def test_an_empty_honeypot_is_a_normal_submission(app, client, setup, endpoint, caplog):
    with app.app_context():
        before = stored()

    with caplog.at_level(logging.INFO):
        response = post(client, setup, endpoint, website="  ")

    assert response.status_code == 302
    assert "Thank you. Please check your email." not in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        after = stored()
    assert after != before  # something was stored: a registration, a contact, an email or a link request
    assert not [r for r in caplog.records if "honeypot" in r.getMessage()]
