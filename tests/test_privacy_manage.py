"""On the manage link: download everything held about the person, and delete the registration
(the place goes on, calendars get a CANCEL without the person's name, the link then shows only
that it is cancelled)."""
from __future__ import annotations

import json

import pytest

from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageStatus, OutboxMessage
from booking.registrations import services
from booking.registrations.models import Registration, RegistrationStatus

from tests.factories import csrf_token, make_registration, make_seminar


@pytest.fixture
def people(app):
    """One place: Zeynep has it, Mehmet waits. Their links and ids."""
    with app.app_context():
        seminar = make_seminar(title="Vereinsrecht", capacity=1)
        zeynep = make_registration(seminar, first_name="Zeynep", last_name="Karakaya",
                                   email="zeynep.karakaya@example.net", phone="+49 69 5551234",
                                   needs="Kinderbetreuung")
        mehmet = make_registration(seminar, first_name="Mehmet", last_name="Öztürk", email="mehmet@example.net")
        db.session.commit()
        return {r.first_name: (services.manage_token(r), r.id) for r in (zeynep, mehmet)}


def deliver(app):
    with app.app_context():
        dispatch_pending()


def test_download_holds_the_registration_the_emails_and_the_audit_entries(app, client, people):
    deliver(app)  # no mail server in tests: kept in the email log with what was sent
    token, _ = people["Zeynep"]
    response = client.get(f"/registrations/{token}/data")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert data["registration"].items() >= {"first_name": "Zeynep", "last_name": "Karakaya",
                                         "email": "zeynep.karakaya@example.net", "phone": "+49 69 5551234",
                                         "needs": "Kinderbetreuung", "status": "confirmed"}.items()
    assert data["registration"]["seminar"]["title"] == "Vereinsrecht"
    kinds = [email["kind"] for email in data["emails"]]
    assert kinds.count("confirmation") == 1 and kinds.count("invitation") == 2
    confirmation = next(email for email in data["emails"] if email["kind"] == "confirmation")
    assert "Vereinsrecht" in confirmation["subject"] and "Zeynep" in confirmation["text"]
    assert confirmation["to"] == "zeynep.karakaya@example.net"
    assert [entry["action"] for entry in data["audit_log"]] == ["registration.created"]
    # only their own: nothing of Mehmet's
    assert "Mehmet" not in response.get_data(as_text=True)


def test_download_with_a_wrong_link_is_404(client, people):
    assert client.get("/registrations/not-a-token/data").status_code == 404


def test_delete_asks_first_then_frees_the_place_and_removes_the_data(app, client, people, smtp_server):
    deliver(app)
    smtp_server.messages.clear()
    token, zeynep_id = people["Zeynep"]
    _, mehmet_id = people["Mehmet"]

    page = client.get(f"/registrations/{token}/delete")  # a mail scanner following the link changes nothing
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Registration, zeynep_id).anonymised_at is None

    response = client.post(f"/registrations/{token}/delete",
                           data={"csrf_token": csrf_token(client, f"/registrations/{token}/delete")})
    assert response.status_code == 302

    with app.app_context():
        zeynep = db.session.get(Registration, zeynep_id)
        assert zeynep.status == RegistrationStatus.CANCELLED and zeynep.anonymised_at is not None
        assert (zeynep.first_name, zeynep.last_name, zeynep.email, zeynep.email_key, zeynep.phone, zeynep.needs) \
            == ("", "", None, None, None, None)
        assert db.session.get(Registration, mehmet_id).status == RegistrationStatus.CONFIRMED
        # what went out before holds nothing about her any more
        for message in db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.registration_id == zeynep_id,
                                                                         OutboxMessage.status == MessageStatus.SENT)):
            assert (message.recipient, message.body_text, message.calendar) == ("", None, None)
            assert not message.attempt_log

    deliver(app)
    to_her = [m for m in smtp_server.messages if m["To"] == "zeynep.karakaya@example.net"]
    cancels = [m for m in to_her if any(part.get_content_type() == "text/calendar" for part in m.walk())]
    assert len(cancels) == 2
    for message in to_her:
        for part in message.walk():
            if not part.is_multipart():
                content = part.get_content()
                content = content.decode() if isinstance(content, bytes) else content
                assert "Zeynep" not in content and "Karakaya" not in content
        calendar = next((p for p in message.walk() if p.get_content_type() == "text/calendar"), None)
        if calendar is not None:
            assert "METHOD:CANCEL" in calendar.get_content()
    # the place went to Mehmet, and he is told
    assert any(m["To"] == "mehmet@example.net" and "Vereinsrecht" in m["Subject"]
               for m in smtp_server.messages)

    page = client.get(f"/registrations/{token}").get_data(as_text=True)
    assert "This registration is cancelled." in page
    assert "Zeynep" not in page and "zeynep.karakaya" not in page and "Vereinsrecht" not in page
    # once sent, the next purge leaves no address on those rows either
    with app.app_context():
        from booking.privacy.services import purge

        purge()
        db.session.commit()
        assert not db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.registration_id == zeynep_id,
                                                                     OutboxMessage.recipient != "")).all()


def test_delete_without_csrf_token_changes_nothing(app, client, people):
    token, zeynep_id = people["Zeynep"]
    assert client.post(f"/registrations/{token}/delete", data={}).status_code == 400
    with app.app_context():
        assert db.session.get(Registration, zeynep_id).email == "zeynep.karakaya@example.net"


def test_a_cancelled_registration_shows_only_that_it_is_cancelled(app, client, people):
    token, zeynep_id = people["Zeynep"]
    with app.app_context():
        services.cancel_registration(db.session.get(Registration, zeynep_id))
        db.session.commit()
    page = client.get(f"/registrations/{token}").get_data(as_text=True)
    assert "This registration is cancelled." in page
    assert "Zeynep" not in page and "zeynep.karakaya" not in page and "Kinderbetreuung" not in page
    assert f"/registrations/{token}/data" in page and f"/registrations/{token}/delete" in page
    # deleting a cancelled registration removes its data, and nothing is sent again
    with app.app_context():
        before = db.session.scalar(db.select(db.func.count(OutboxMessage.id)))
    client.post(f"/registrations/{token}/delete", data={"csrf_token": csrf_token(client, f"/registrations/{token}/delete")})
    with app.app_context():
        assert db.session.get(Registration, zeynep_id).first_name == ""
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == before
    page = client.get(f"/registrations/{token}").get_data(as_text=True)
    assert "has been deleted" in page and f"/registrations/{token}/delete" not in page
