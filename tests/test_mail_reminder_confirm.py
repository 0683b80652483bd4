"""The reminder before the first session asks: coming, or release the place? One click each from
the email opens a page with a button (mail scanners follow links: a GET changes nothing)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, OutboxMessage
from booking.mail.reminders import schedule_reminders
from booking.registrations import services
from booking.registrations.models import Registration, RegistrationStatus
from booking.redaction import REDACTED

from tests.factories import csrf_token, make_registration, make_seminar, now


def reload(registration_id: int) -> Registration:
    db.session.expire_all()
    return db.session.get(Registration, registration_id)


def seminar_starting_in(hours: float, **overrides):
    start = now().replace(microsecond=0) + timedelta(hours=hours)
    return make_seminar(sessions=[(start, start + timedelta(hours=2)),
                                  (start + timedelta(days=7), start + timedelta(days=7, hours=2))], **overrides)


@pytest.fixture
def booked(app_ctx):
    """A seminar a week ahead, one place taken by Leyla, Omar waiting."""
    seminar = seminar_starting_in(24 * 7, capacity=1)
    leyla = make_registration(seminar, email="leyla@example.net")
    omar = make_registration(seminar, email="omar@example.net")
    db.session.commit()
    return seminar, leyla, omar


def links_in(text: str) -> dict[str, str]:
    return {kind: path for path, kind in re.findall(r"https?://[^/\s]+(/registrations/[^\s\"<]+/(coming|release))", text)}


def test_the_first_sessions_reminder_carries_both_links_the_later_ones_do_not(booked, smtp_server):
    seminar, leyla, omar = booked
    first, second = seminar.sessions
    dispatch_pending()
    moment = first.starts_at - timedelta(hours=47)
    assert schedule_reminders(moment) == 1
    db.session.commit()
    dispatch_pending(moment)
    reminder = smtp_server.messages[-1]
    assert reminder["Subject"].startswith("Reminder:")
    text = reminder.get_body(("plain",)).get_content()
    html = reminder.get_body(("html",)).get_content()
    assert "Please tell us whether you are coming." in text
    assert links_in(text) == {"coming": f"/registrations/{services.coming_token(leyla)}/coming",
                              "release": f"/registrations/{services.release_token(leyla)}/release"}
    assert links_in(html) == links_in(text)
    assert f"/registrations/{services.manage_token(leyla)}" in text
    # the email log keeps the reminder without the links' tokens
    stored = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.REMINDER))
    assert services.coming_token(leyla) not in stored.body_text
    assert services.release_token(leyla) not in stored.body_html
    assert f"/registrations/{REDACTED}/coming" in stored.body_text

    later = second.starts_at - timedelta(hours=47)
    assert schedule_reminders(later) == 1
    db.session.commit()
    dispatch_pending(later)
    text = smtp_server.messages[-1].get_body(("plain",)).get_content()
    assert links_in(text) == {}
    assert "Can't come?" in text


def test_coming_get_changes_nothing_post_records_it_and_the_manage_page_says_so(booked, client):
    seminar, leyla, omar = booked
    coming = f"/registrations/{services.coming_token(leyla)}/coming"
    manage = f"/registrations/{services.manage_token(leyla)}"

    page = client.get(coming)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "Yes, I am coming" in page.get_data(as_text=True)
    client.get(coming)  # a mail scanner following the link twice
    assert reload(leyla.id).attendance_confirmed_at is None
    assert "You have told us that you are coming" not in client.get(manage).get_data(as_text=True)

    response = client.post(coming, data={"csrf_token": csrf_token(client, coming)}, follow_redirects=True)
    assert response.request.path == manage
    body = response.get_data(as_text=True)
    assert "We have noted that you are coming." in body
    assert "You have told us that you are coming" in body
    confirmed_at = reload(leyla.id).attendance_confirmed_at
    assert confirmed_at is not None
    assert reload(leyla.id).status == RegistrationStatus.CONFIRMED

    # a second click keeps the first moment
    client.post(coming, data={"csrf_token": csrf_token(client, coming)})
    assert reload(leyla.id).attendance_confirmed_at == confirmed_at


def test_release_get_changes_nothing_post_cancels_and_promotes(booked, client):
    seminar, leyla, omar = booked
    release = f"/registrations/{services.release_token(leyla)}/release"

    page = client.get(release)
    assert page.status_code == 200
    assert "Yes, release my place" in page.get_data(as_text=True)
    assert reload(leyla.id).status == RegistrationStatus.CONFIRMED
    assert reload(omar.id).status == RegistrationStatus.WAITLISTED

    response = client.post(release, data={"csrf_token": csrf_token(client, release)}, follow_redirects=True)
    assert response.request.path == f"/registrations/{services.manage_token(leyla)}"
    assert "Your place is released" in response.get_data(as_text=True)
    assert reload(leyla.id).status == RegistrationStatus.CANCELLED
    assert reload(omar.id).status == RegistrationStatus.CONFIRMED  # a week ahead: promoted as before

    # the link again: nothing left to release, and it says so
    again = client.get(release, follow_redirects=True)
    assert "can no longer be cancelled" in again.get_data(as_text=True)


def test_releasing_a_late_place_makes_an_offer(app_ctx, client):
    seminar = seminar_starting_in(47, capacity=1)
    leyla = make_registration(seminar)
    omar = make_registration(seminar)
    db.session.commit()
    release = f"/registrations/{services.release_token(leyla)}/release"
    client.post(release, data={"csrf_token": csrf_token(client, release)})
    assert reload(leyla.id).status == RegistrationStatus.CANCELLED
    assert reload(omar.id).has_open_offer


@pytest.mark.parametrize("action", ["coming", "release"])
def test_tampered_wrong_purpose_or_revoked_links_are_404(booked, client, action):
    seminar, leyla, omar = booked
    make = services.coming_token if action == "coming" else services.release_token
    good = make(leyla)
    public_id, mac = good.split(".")
    other = "coming" if action == "release" else "release"
    bad_tokens = [
        f"{public_id}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",  # one character of the MAC changed
        f"{omar.public_id}.{mac}",  # someone else's id with this MAC
        services.manage_token(leyla),  # the manage link is no "coming" or "release" link
        (services.release_token if action == "coming" else services.coming_token)(leyla),
        "nonsense",
    ]
    token = csrf_token(client, f"/registrations/{good}/{action}")
    for bad in bad_tokens:
        assert client.get(f"/registrations/{bad}/{action}").status_code == 404, bad
        assert client.post(f"/registrations/{bad}/{action}", data={"csrf_token": token}).status_code == 404, bad
    assert client.get(f"/registrations/{good}/{other}").status_code == 404
    assert reload(leyla.id).status == RegistrationStatus.CONFIRMED
    assert reload(leyla.id).attendance_confirmed_at is None

    services.revoke_links(reload(leyla.id))
    db.session.commit()
    assert client.get(f"/registrations/{good}/{action}").status_code == 404
    assert client.post(f"/registrations/{good}/{action}", data={"csrf_token": token}).status_code == 404
    assert reload(leyla.id).status == RegistrationStatus.CONFIRMED


def test_post_without_csrf_token_changes_nothing(booked, client):
    seminar, leyla, omar = booked
    for path in (f"/registrations/{services.coming_token(leyla)}/coming",
                 f"/registrations/{services.release_token(leyla)}/release"):
        assert client.post(path, data={}).status_code == 400
    assert reload(leyla.id).status == RegistrationStatus.CONFIRMED
    assert reload(leyla.id).attendance_confirmed_at is None


def test_a_cancelled_registration_cannot_say_it_is_coming(booked, client):
    seminar, leyla, omar = booked
    coming = f"/registrations/{services.coming_token(leyla)}/coming"
    token = csrf_token(client, coming)
    services.cancel_registration(reload(leyla.id))
    db.session.commit()
    response = client.get(coming, follow_redirects=True)
    assert "nothing to confirm" in response.get_data(as_text=True)
    client.post(coming, data={"csrf_token": token})
    assert reload(leyla.id).attendance_confirmed_at is None
    with pytest.raises(services.AttendanceRefused):
        services.confirm_attendance(reload(leyla.id))


def test_the_coming_page_speaks_the_persons_language(app_ctx, client):
    seminar = seminar_starting_in(24 * 7)
    ayse = make_registration(seminar, preferred_language="tr")
    db.session.commit()
    page = client.get(f"/registrations/{services.coming_token(ayse)}/coming").get_data(as_text=True)
    assert 'lang="tr"' in page
