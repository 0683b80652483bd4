"""Certificates of attendance as downloads: one or all (a ZIP file) for the office, and the
participant's own from the manage link once the seminar is over; each in the participant's language."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from types import SimpleNamespace

import pytest

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.attendance import services as attendance
from booking.documents import certificate_file_names
from booking.extensions import db
from booking.registrations import services as registrations

from tests.factories import make_applicant, make_seminar, now
from tests.pdf_text import text_lines
from tests.test_admin_access import PASSWORD, log_in

COORDINATOR = "koordination@stadt.example"
TRAINER = "trainerin@stadt.example"


def weekly_from(first, count: int):
    return [(first + timedelta(days=7 * i), first + timedelta(days=7 * i, hours=2)) for i in range(count)]


def register(seminar, **person):
    """Registered a day before the first session (the seminar was open then)."""
    return registrations.register(seminar, make_applicant(**person), None,
                                  now=seminar.sessions[0].starts_at - timedelta(days=1))


def tick(seminar, registration, pattern: str):
    """`pattern` per session: P present, A absent."""
    for session, letter in zip(seminar.sessions, pattern):
        attendance.record(session, registration, "present" if letter == "P" else "absent", now=session.starts_at)


@pytest.fixture
def held(app):
    """A seminar of three sessions, the last ended a week ago: Leyla and Şule (Turkish) completed,
    Ali missed one; and someone who completed another seminar."""
    with app.app_context():
        trainer = create_user(TRAINER, role=Role.TRAINER, display_name="Trainerin", password=PASSWORD)
        create_user(COORDINATOR, role=Role.COORDINATOR, display_name="Koordination", password=PASSWORD)
        seminar = make_seminar(weekly_from(now().replace(microsecond=0) - timedelta(days=21), 3),
                               title="Vereinsrecht kompakt", trainer_user_id=trainer.id)
        leyla = register(seminar, first_name="Leyla", last_name="Yılmaz", preferred_language="en")
        sule = register(seminar, first_name="Şule Çağlar", last_name="İnce", preferred_language="tr")
        ali = register(seminar, first_name="Ali", last_name="Abwesend", preferred_language="en")
        tick(seminar, leyla, "PPP")
        tick(seminar, sule, "PPP")
        tick(seminar, ali, "PAP")
        other = make_seminar(weekly_from(now().replace(microsecond=0) - timedelta(days=21), 1), title="Anderes")
        elsewhere = register(other, first_name="Otto", last_name="Anders")
        tick(other, elsewhere, "P")
        db.session.commit()
        return SimpleNamespace(id=seminar.id, leyla=leyla.id, sule=sule.id, ali=ali.id, elsewhere=elsewhere.id,
                               tokens={r.id: registrations.manage_token(r) for r in (leyla, sule, ali)})


def certificate_url(seminar_id, registration_id):
    return f"/admin/seminars/{seminar_id}/certificates/{registration_id}.pdf"


# --- the office ---------------------------------------------------------------------------------

def test_a_coordinator_downloads_a_completed_participants_certificate(client, held):
    log_in(client, COORDINATOR)
    page = client.get(f"/admin/seminars/{held.id}").get_data(as_text=True)
    certificates = page[page.index('id="certificates-title"'):]
    assert certificate_url(held.id, held.leyla) in certificates
    assert certificate_url(held.id, held.sule) in certificates
    assert certificate_url(held.id, held.ali) not in certificates
    assert f"/admin/seminars/{held.id}/certificates.zip" in certificates

    response = client.get(certificate_url(held.id, held.leyla))

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    # the name as typed, in UTF-8, and a plain ASCII name for old clients
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=Leyla-Ylmaz.pdf; filename*=UTF-8''Leyla-Y%C4%B1lmaz.pdf")
    lines = text_lines(response.data)
    assert "Certificate of attendance" in lines
    assert "Leyla Yılmaz" in lines
    assert "Sessions attended: 3 of 3" in lines


def test_the_zip_holds_exactly_the_completed_participants_each_in_their_language(client, held):
    log_in(client, COORDINATOR)

    response = client.get(f"/admin/seminars/{held.id}/certificates.zip")

    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == ["Leyla-Yılmaz.pdf", "Şule-Çağlar-İnce.pdf"]
    leyla = text_lines(archive.read("Leyla-Yılmaz.pdf"))
    sule = text_lines(archive.read("Şule-Çağlar-İnce.pdf"))
    assert "Leyla Yılmaz" in leyla and "Certificate of attendance" in leyla
    assert "Şule Çağlar İnce" in sule and "Katılım belgesi" in sule  # her preferred language, Turkish
    assert not any("Abwesend" in line for line in leyla + sule)


def test_a_trainer_gets_403_and_sees_no_certificates(client, held):
    log_in(client, TRAINER)

    assert client.get(certificate_url(held.id, held.leyla)).status_code == 403
    assert client.get(f"/admin/seminars/{held.id}/certificates.zip").status_code == 403
    page = client.get(f"/admin/seminars/{held.id}").get_data(as_text=True)
    assert 'id="attendance-title"' in page
    assert 'id="certificates-title"' not in page and "certificates.zip" not in page


def test_no_certificate_for_who_did_not_complete_nor_for_another_seminars_registration(client, held):
    log_in(client, COORDINATOR)

    assert client.get(certificate_url(held.id, held.ali)).status_code == 404  # missed a session
    assert client.get(certificate_url(held.id, held.elsewhere)).status_code == 404  # another seminar's
    assert client.get(certificate_url(held.id, 999999)).status_code == 404
    assert client.get(certificate_url(held.id, "abc")).status_code == 404
    assert client.get(certificate_url(999999, held.leyla)).status_code == 404
    assert client.get("/admin/seminars/999999/certificates.zip").status_code == 404


def test_file_names_are_safe_and_unique():
    people = [SimpleNamespace(id=1, full_name="Leyla Yılmaz"), SimpleNamespace(id=2, full_name="leyla  yılmaz"),
              SimpleNamespace(id=3, full_name="../../etc/pass wd"), SimpleNamespace(id=4, full_name="ليلى العلي"),
              SimpleNamespace(id=5, full_name='"*?<>|'), SimpleNamespace(id=6, full_name="Leyla Yılmaz")]

    names = certificate_file_names(people)

    assert names == {1: "Leyla-Yılmaz.pdf", 2: "leyla-yılmaz-2.pdf", 3: "etc-pass-wd.pdf", 4: "ليلى-العلي.pdf",
                     5: "participant-5.pdf", 6: "Leyla-Yılmaz-3.pdf"}


# --- the participant ----------------------------------------------------------------------------

def test_the_participant_downloads_their_certificate_in_their_language_once_the_seminar_is_over(client, held):
    token = held.tokens[held.sule]
    page = client.get(f"/registrations/{token}").get_data(as_text=True)
    assert f"/registrations/{token}/certificate.pdf" in page
    # the manage page speaks her language; the English words of the link are in the catalogue
    assert "Katılım belgesi" in page

    response = client.get(f"/registrations/{token}/certificate.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    lines = text_lines(response.data)
    assert "Şule Çağlar İnce" in lines
    assert "Katılım belgesi" in lines


def test_the_link_in_english(client, held):
    token = held.tokens[held.leyla]
    page = client.get(f"/registrations/{token}?lang=en").get_data(as_text=True)
    assert "Download your certificate of attendance (PDF)" in page


def test_no_certificate_link_for_who_did_not_complete(client, held):
    token = held.tokens[held.ali]
    page = client.get(f"/registrations/{token}?lang=en").get_data(as_text=True)

    assert "certificate" not in page.lower()
    assert client.get(f"/registrations/{token}/certificate.pdf").status_code == 404
    assert client.get("/registrations/not-a-token/certificate.pdf").status_code == 404


def test_no_certificate_link_before_the_seminar_is_over(app, client):
    """Half the sessions make "completed" here: two held and attended, two still to come."""
    app.config["BOOKING_COMPLETION_SHARE"] = 0.5
    with app.app_context():
        seminar = make_seminar(weekly_from(now().replace(microsecond=0) - timedelta(days=10), 4))
        leyla = register(seminar, first_name="Leyla", last_name="Yılmaz", preferred_language="en")
        tick(seminar, leyla, "PP")
        assert attendance.completed(leyla)
        db.session.commit()
        token = registrations.manage_token(leyla)

    page = client.get(f"/registrations/{token}?lang=en").get_data(as_text=True)

    assert "You have a place." in page
    assert not re.search(r"certificate", page, re.IGNORECASE)
    assert client.get(f"/registrations/{token}/certificate.pdf").status_code == 404
