"""The privacy notice at /privacy (booking/privacy_notice.py) and the version each registration records."""
from __future__ import annotations

import logging
import os
import re

import pytest

from booking import privacy_notice
from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.extensions import db
from booking.registrations.models import Registration
from tests.factories import csrf_token, make_association, make_seminar
from tests.test_admin_access import PASSWORD, log_in

OFFICE_DE = """---
version: 7b
date: 2027-03-15
---
# Datenschutz beim Amt für Integration

Wir löschen Ihre Anmeldung {retention_days} Tage nach dem Seminar, Bedarfe nach {needs_retention_days} Tagen.

<script>alert("x")</script> <img src=x onerror=alert(1)>

[Klick](javascript:alert(1)) [Aufsicht](https://datenschutz.example.org/) ![Zähler](https://tracker.example/pixel.gif)
"""


def page(client, path="/privacy", lang="de"):
    response = client.get(f"{path}?lang={lang}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def notice_reference(app, language):
    with app.test_request_context(f"/?lang={language}"):
        return privacy_notice.notice_for(language).reference


@pytest.fixture
def office_dir(app, tmp_path):
    directory = tmp_path / "privacy-texts"
    directory.mkdir()
    app.config["BOOKING_PRIVACY_NOTICE_DIR"] = str(directory)
    return directory


# --- the page -----------------------------------------------------------------------------------

def test_the_shipped_notice_in_german_and_english_promises_the_retention_settings(client):
    german = page(client, lang="de")
    assert "<h1>Datenschutzhinweise</h1>" in german
    assert "<strong>180 Tage</strong> nach dem" in german
    assert "<strong>30 Tage</strong> nach der Absage" in german
    assert "<strong>14 Tage</strong> nach dem letzten Termin" in german
    assert re.search(r'id="notice-version">Version 2026-1 vom 1\. Dezember 2026\.', german)
    assert 'lang="de" dir="ltr"' in german
    assert "seminars@example.org" in german  # the contact, from BOOKING_MAIL_SENDER
    english = page(client, lang="en")
    assert "<h1>Privacy notice</h1>" in english
    assert "<strong>180 days</strong> after" in english
    assert "<strong>30 days</strong> after you cancelled" in english
    assert "<strong>14 days</strong> after the seminar" in english
    assert "download everything we hold about you" in english
    assert re.search(r'id="notice-version">Version 2026-1 of December 1, 2026\.', english)
    assert "not available in your language" not in english


def test_the_notice_follows_the_settings_and_its_fingerprint_changes_with_them(app, client):
    before = notice_reference(app, "en")
    app.config.update(BOOKING_RETENTION_DAYS=90, BOOKING_CANCELLED_RETENTION_DAYS=7, BOOKING_NEEDS_RETENTION_DAYS=3,
                      BOOKING_OFFICE_NAME="Amt für *Integration*")
    english = page(client, lang="en")
    assert "<strong>90 days</strong>" in english and "<strong>7 days</strong>" in english
    assert "<strong>3 days</strong>" in english and "180 days" not in english
    assert "Amt für *Integration* runs this website" in english  # a setting adds no Markdown of its own
    after = notice_reference(app, "en")
    assert after != before and after.startswith("2026-1/en/")


def test_the_shipped_notice_speaks_turkish_and_arabic_too(client):
    turkish = page(client, lang="tr")
    assert "<h1>Gizlilik bildirimi</h1>" in turkish and "180" in turkish
    assert "not available in your language" not in turkish and "henüz sizin dilinizde yok" not in turkish
    arabic = page(client, lang="ar")
    assert "<h1>إشعار الخصوصية</h1>" in arabic and 'lang="ar" dir="rtl"' in arabic and "180" in arabic


def test_a_language_without_a_text_falls_back_to_german_and_says_so(client, office_dir):
    (office_dir / "de.md").write_text(OFFICE_DE, encoding="utf-8")
    turkish = page(client, lang="tr")
    assert "<h1>Datenschutz beim Amt für Integration</h1>" in turkish
    assert 'lang="de" dir="ltr"' in turkish
    # the note is in the visitor's language
    assert "Bu bildirim henüz sizin dilinizde yok. Şu dilde gösteriliyor: Almanca." in turkish


def test_the_offices_own_text_replaces_the_shipped_one_and_cannot_run_script(app, client, office_dir):
    (office_dir / "de.md").write_text(OFFICE_DE, encoding="utf-8")
    german = page(client, lang="de")
    assert "<h1>Datenschutz beim Amt für Integration</h1>" in german
    assert "Anmeldung 180 Tage nach dem Seminar, Bedarfe nach 14 Tagen" in german
    assert "Version 7b vom 15. März 2027." in german
    assert "<h1>Datenschutzhinweise</h1>" not in german  # not the shipped text
    # HTML in the file is shown as text, never run; no script links, no images loaded from elsewhere
    assert "&lt;script&gt;" in german and "<script>alert" not in german
    assert "<img" not in german and "tracker.example" not in re.findall(r'src="([^"]*)"', german)
    assert 'href="javascript:' not in german
    assert '<a href="https://datenschutz.example.org/">Aufsicht</a>' in german
    # English and Turkish readers get the office's German text, never the shipped English one
    for language in ("en", "tr"):
        other = page(client, lang=language)
        assert "<h1>Datenschutz beim Amt für Integration</h1>" in other
        assert "<h1>Privacy notice</h1>" not in other


def test_an_edited_text_is_shown_at_once_with_a_new_fingerprint(app, client, office_dir):
    path = office_dir / "de.md"
    path.write_text(OFFICE_DE, encoding="utf-8")
    first = notice_reference(app, "de")
    assert first.startswith("7b/de/")
    path.write_text(OFFICE_DE.replace("Klick", "Hier klicken"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # same second on a coarse clock
    assert "Hier klicken" in page(client, lang="de")
    second = notice_reference(app, "de")
    assert second.startswith("7b/de/") and second != first  # same version number, different text


@pytest.mark.parametrize("text", [
    "# no header\n",
    "---\nversion: 1\n---\n# no date\n",
    "---\nversion: 1\ndate: yesterday\n---\n# bad date\n",
    "---\ndate: 2027-01-01\n---\n# no version\n",
    "---\nversion: 1\ndate: 2027-01-01\n# never closed\n",
], ids=["no-header", "no-date", "bad-date", "no-version", "unclosed"])
def test_a_broken_office_text_falls_back_to_the_shipped_one_and_is_logged(app, client, office_dir, caplog, text):
    (office_dir / "de.md").write_text(text, encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="booking.privacy_notice"):
        german = page(client, lang="de")
    assert "<h1>Datenschutzhinweise</h1>" in german
    assert any("cannot be used" in record.getMessage() for record in caplog.records)


# --- what registrations record ------------------------------------------------------------------

@pytest.fixture
def seminar(app):
    with app.app_context():
        seminar = make_seminar(capacity=5, slug="vereinsrecht", title="Vereinsrecht")
        verein = make_association("Kulturverein")
        db.session.commit()
        return {"id": seminar.id, "slug": seminar.slug, "verein": verein.id}


def registrations(app):
    with app.app_context():
        return {r.email or r.first_name: (r.consent_version, r.consent_at is not None)
                for r in db.session.scalars(db.select(Registration))}


def test_a_public_registration_records_the_notice_in_the_language_it_was_read(app, client, seminar):
    path = f"/seminars/{seminar['slug']}"
    client.get(f"{path}?lang=en")
    response = client.post(f"{path}/register", data={
        "csrf_token": csrf_token(client, path), "first_name": "Leyla", "last_name": "Yılmaz",
        "email": "leyla@example.net", "association_id": str(seminar["verein"]), "new_association": "",
        "preferred_language": "tr", "consent": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert registrations(app) == {"leyla@example.net": (notice_reference(app, "en"), True)}
    assert notice_reference(app, "en").startswith("2026-1/en/")


def test_a_group_records_the_contacts_confirmation_for_every_member(app, client, seminar):
    path = f"/seminars/{seminar['slug']}/group"
    client.get(f"{path}?lang=de")
    form = {"csrf_token": csrf_token(client, path), "contact_first_name": "Aylin", "contact_last_name": "Kaya",
            "contact_email": "vorstand@verein.example", "contact_phone": "", "association_id": str(seminar["verein"]),
            "new_association": "", "consent": "y", "submit": "Register these people",
            "participants-0-first_name": "Emre", "participants-0-last_name": "Kaya", "participants-0-email": "",
            "participants-0-preferred_language": "tr",
            "participants-1-first_name": "Gül", "participants-1-last_name": "Demir",
            "participants-1-email": "gul@example.net", "participants-1-preferred_language": "tr"}
    response = client.post(path, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    german = notice_reference(app, "de")
    assert registrations(app) == {"Emre": (german, True), "gul@example.net": (german, True)}
    # the form the contact confirmed says they have the members' agreement
    assert "The people listed agree that their details are stored" in page(client, path, lang="en")


def test_a_registration_by_hand_records_that_the_office_confirmed_the_agreement(app, client, seminar):
    with app.app_context():
        create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                    password=PASSWORD)
        db.session.commit()
    log_in(client, "koordination@stadt.example")
    path = f"/admin/seminars/{seminar['id']}/registrations/new"
    new_form = client.get(f"{path}?lang=en").get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', new_form).group(1)
    response = client.post(path, data={
        "csrf_token": csrf_token(client, path), "key": key, "association_id": str(seminar["verein"]),
        "people-0-first_name": "Şükrü", "people-0-last_name": "Çelik", "people-0-email": "sukru@example.net",
        "people-0-preferred_language": "tr", "consent": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    recorded, consent_at = registrations(app)["sukru@example.net"]
    assert consent_at and recorded == "office:" + notice_reference(app, "en")
    assert privacy_notice.consent_label(recorded).endswith("(by the office)")


def test_consent_labels_for_people_to_read(app):
    with app.test_request_context("/?lang=en"):
        assert privacy_notice.consent_label(None) == "before versioned notices"
        assert privacy_notice.consent_label("2026-1/de/abc") == "2026-1/de/abc"
        assert privacy_notice.consent_label("office:2026-1/de/abc") == "2026-1/de/abc (by the office)"
