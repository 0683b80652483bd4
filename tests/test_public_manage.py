"""The personal manage link: status, waiting-list position, cancelling with confirmation, bad tokens."""
import re
from datetime import timedelta

import pytest

from booking.extensions import db
from booking.registrations import services
from booking.registrations.models import Registration, RegistrationStatus

from tests.factories import csrf_token, make_association, make_registration, make_seminar, now


def seeded(app, build):
    with app.app_context():
        result = build()
        db.session.commit()
        return result


def status_of(app, public_id) -> RegistrationStatus:
    with app.app_context():
        return db.session.scalar(db.select(Registration.status).where(Registration.public_id == public_id))


@pytest.fixture
def full_seminar(app):
    """A seminar with one place: Leyla has it, Ahmet and Sara wait (in that order). Their links."""
    def build():
        seminar = make_seminar(title="Öffentlichkeitsarbeit", capacity=1)
        people = [make_registration(seminar, first_name=name, last_name="Test", email=f"{name.lower()}@example.net")
                  for name in ("Leyla", "Ahmet", "Sara")]
        return {p.first_name: (services.manage_token(p), p.public_id) for p in people}

    return seeded(app, build)


def test_manage_page_shows_place_sessions_and_the_personal_link(client, full_seminar):
    token, _ = full_seminar["Leyla"]
    response = client.get(f"/registrations/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You have a place." in page
    assert "Öffentlichkeitsarbeit" in page and "Leyla Test" in page
    assert page.count('<li class="session') == 2
    assert f"{client.application.config['BOOKING_BASE_URL']}/registrations/{token}" in page
    assert "Keep this link" in page
    assert f'href="/registrations/{token}/cancel"' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_manage_page_shows_the_waiting_list_position(client, full_seminar):
    page = client.get(f"/registrations/{full_seminar['Sara'][0]}").get_data(as_text=True)
    assert "You are number 2 on the waiting list." in page


def test_cancel_asks_first_then_promotes_the_first_waitlisted(app, client, full_seminar):
    leyla, leyla_id = full_seminar["Leyla"]
    ahmet, ahmet_id = full_seminar["Ahmet"]
    sara, sara_id = full_seminar["Sara"]

    confirm = client.get(f"/registrations/{leyla}/cancel")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Cancel your registration?" in page
    assert f'<form method="post" action="/registrations/{leyla}/cancel"' in page
    assert status_of(app, leyla_id) == RegistrationStatus.CONFIRMED  # asking changed nothing

    token = csrf_token(client, f"/registrations/{leyla}/cancel")
    response = client.post(f"/registrations/{leyla}/cancel", data={"csrf_token": token})
    assert response.status_code == 302 and response.location == f"/registrations/{leyla}"
    page = client.get(response.location).get_data(as_text=True)
    assert "Your registration has been cancelled." in page
    assert "This registration is cancelled." in page
    assert "Cancel my registration" not in page

    assert status_of(app, leyla_id) == RegistrationStatus.CANCELLED
    assert status_of(app, ahmet_id) == RegistrationStatus.CONFIRMED
    assert status_of(app, sara_id) == RegistrationStatus.WAITLISTED
    assert "You have a place." in client.get(f"/registrations/{ahmet}").get_data(as_text=True)
    assert "You are number 1 on the waiting list." in client.get(f"/registrations/{sara}").get_data(as_text=True)


def test_cancelling_twice_says_so_without_error(app, client, full_seminar):
    leyla, leyla_id = full_seminar["Leyla"]
    token = csrf_token(client, f"/registrations/{leyla}/cancel")
    assert client.post(f"/registrations/{leyla}/cancel", data={"csrf_token": token}).status_code == 302

    # a second tab still showing the confirmation page
    response = client.post(f"/registrations/{leyla}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    assert "This registration has already been cancelled." in response.get_data(as_text=True)

    response = client.get(f"/registrations/{leyla}/cancel", follow_redirects=True)
    assert "This registration can no longer be cancelled." in response.get_data(as_text=True)
    assert status_of(app, full_seminar["Ahmet"][1]) == RegistrationStatus.CONFIRMED
    assert status_of(app, full_seminar["Sara"][1]) == RegistrationStatus.WAITLISTED


def test_cancel_without_csrf_token_changes_nothing(app, client, full_seminar):
    leyla, leyla_id = full_seminar["Leyla"]
    client.get(f"/registrations/{leyla}/cancel")
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(f"/registrations/{leyla}/cancel", data=data)
        assert response.status_code == 400
        assert "The form could not be sent" in response.get_data(as_text=True)
    assert status_of(app, leyla_id) == RegistrationStatus.CONFIRMED


def test_a_seminar_that_is_over_offers_no_cancelling(app, client):
    def build():
        start = now() + timedelta(days=1)
        seminar = make_seminar(sessions=[(start, start + timedelta(hours=2))])
        registration = make_registration(seminar)
        seminar.sessions[0].starts_at = now() - timedelta(hours=3)
        seminar.sessions[0].ends_at = now() - timedelta(hours=1)
        return services.manage_token(registration)

    token = seeded(app, build)
    page = client.get(f"/registrations/{token}").get_data(as_text=True)
    assert "You have a place." in page and "Cancel my registration" not in page
    response = client.get(f"/registrations/{token}/cancel", follow_redirects=True)
    assert "This registration can no longer be cancelled." in response.get_data(as_text=True)


def bad_tokens(good: str, public_id: str) -> list[str]:
    mac = good.partition(".")[2]
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    return [
        flipped,  # tampered MAC
        f"{public_id}.{mac[:-4]}",  # shortened MAC
        f"{public_id[:-1]}x.{mac}",  # another public id with this MAC
        public_id,  # no MAC
        "nothing",
        "a" * 300,
    ]


@pytest.mark.parametrize("index", range(6))
def test_wrong_or_tampered_token_is_a_404_revealing_nothing(client, full_seminar, index):
    good, public_id = full_seminar["Leyla"]
    bad = bad_tokens(good, public_id)[index]
    for url in (f"/registrations/{bad}", f"/registrations/{bad}/cancel"):
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "Page not found" in page
        assert "Leyla" not in page and "Öffentlichkeitsarbeit" not in page
    token = csrf_token(client, f"/registrations/{good}/cancel")
    assert client.post(f"/registrations/{bad}/cancel", data={"csrf_token": token}).status_code == 404


def test_revoked_link_is_a_404(app, client, full_seminar):
    good, public_id = full_seminar["Leyla"]

    def revoke():
        services.revoke_links(db.session.scalar(db.select(Registration).filter_by(public_id=public_id)))

    seeded(app, revoke)
    assert client.get(f"/registrations/{good}").status_code == 404


def test_manage_link_shown_after_registering_opens_the_same_registration(app, client):
    slug = seeded(app, lambda: make_seminar(slug="pr").slug)
    association_id = seeded(app, lambda: make_association("Kurdischer Elternverein").id)
    data = {"csrf_token": csrf_token(client, f"/seminars/{slug}"), "first_name": "Sara", "last_name": "Test",
            "email": "sara@example.net", "association_id": str(association_id), "preferred_language": "de",
            "consent": "y"}
    location = client.post(f"/seminars/{slug}/register", data=data).location
    page = client.get(location).get_data(as_text=True)
    shown = re.search(r'<a class="link-box" href="([^"]+)">', page).group(1)
    base = app.config["BOOKING_BASE_URL"]
    assert shown == f"{base}{location}"
    assert "Sara Test" in client.get(shown.removeprefix(base)).get_data(as_text=True)
