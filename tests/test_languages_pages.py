"""Which language a page speaks: German by default, the browser's language on a first visit, the
switcher's choice kept in the session, a registration's preferred language on its own pages, and
right-to-left only for a language that has a catalogue."""
from __future__ import annotations

import re

from booking import create_app
from booking.extensions import db
from booking.registrations.services import manage_token

from tests.factories import make_registration, make_seminar


def html_tag(response) -> str:
    return re.search(r"<html[^>]*>", response.get_data(as_text=True)).group(0)


def test_german_is_the_default_for_a_browser_that_asks_for_no_offered_language(app):
    client = app.test_client()
    for header in ("", "fr-FR,fr;q=0.9", "*"):
        response = client.get("/", headers={"Accept-Language": header})
        assert 'lang="de"' in html_tag(response), header
        assert 'dir="ltr"' in html_tag(response)


def test_the_first_visit_follows_accept_language(app):
    client = app.test_client()
    response = client.get("/", headers={"Accept-Language": "fr;q=1, tr-TR;q=0.8, de;q=0.5"})
    assert 'lang="tr"' in html_tag(response)
    response = app.test_client().get("/", headers={"Accept-Language": "ar-SY"})
    assert 'lang="ar"' in html_tag(response) and 'dir="rtl"' in html_tag(response)


def test_the_switcher_names_each_language_in_itself_and_the_session_keeps_the_choice(app):
    client = app.test_client()
    page = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    for name in ("Deutsch", "Türkçe", "العربية", "English"):
        assert f">{name}<" in page
    client.get("/?lang=ar", headers={"Accept-Language": "de"})
    # later pages keep Arabic although the browser asks for German
    response = client.get("/privacy", headers={"Accept-Language": "de"})
    assert 'lang="ar"' in html_tag(response) and 'dir="rtl"' in html_tag(response)


def test_the_switcher_is_at_the_top_of_the_page(app):
    page = app.test_client().get("/").get_data(as_text=True)
    switcher = page.index('class="language-switcher"')
    assert switcher < page.index('<main'), "the language switcher comes before the content"


def test_a_registrations_page_speaks_its_preferred_language_until_the_visitor_switches(app_ctx):
    seminar = make_seminar()
    registration = make_registration(seminar, preferred_language="tr")
    db.session.commit()
    token = manage_token(registration)
    client = app_ctx.test_client()
    response = client.get(f"/registrations/{token}", headers={"Accept-Language": "en"})
    assert 'lang="tr"' in html_tag(response)
    client.get(f"/registrations/{token}?lang=en")
    assert 'lang="en"' in html_tag(client.get(f"/registrations/{token}"))


def test_a_configured_language_without_a_catalogue_is_not_offered(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}",
                      "BOOKING_LANGUAGES": "de,fa,en"})
    assert app.config["BOOKING_INTERFACE_LANGUAGES"] == ["de", "en"]
    with app.app_context():
        db.create_all()
    client = app.test_client()
    response = client.get("/?lang=fa", headers={"Accept-Language": "fa"})
    # Persian has no catalogue: no English text in a right-to-left layout, no "فارسی" in the switcher
    assert 'lang="de"' in html_tag(response) and 'dir="ltr"' in html_tag(response)
    assert "فارسی" not in response.get_data(as_text=True)


def test_the_default_language_must_be_offered(tmp_path):
    import pytest

    with pytest.raises(RuntimeError, match="BOOKING_DEFAULT_LOCALE"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}",
                    "BOOKING_LANGUAGES": "tr,en", "BABEL_DEFAULT_LOCALE": "de"})


def test_logging_in_and_out_keeps_the_chosen_language(app):
    from booking.accounts.models import Role
    from booking.accounts.services import create_user

    from tests.factories import csrf_token

    with app.app_context():
        create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                    password="ein langes Passwort")
        db.session.commit()
    client = app.test_client()
    client.get("/admin/login?lang=tr")
    response = client.post("/admin/login", data={"email": "koordination@stadt.example", "password": "ein langes Passwort",
                                                 "csrf_token": csrf_token(client, "/admin/login")})
    assert response.status_code == 302
    assert 'lang="tr"' in html_tag(client.get(response.location))
    response = client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert 'lang="tr"' in html_tag(client.get(response.location))
