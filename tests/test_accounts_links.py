"""One-time links for staff: "forgot your password?", the reset page and the invitation page.

The emails go through the outbox and the real SMTP server; the links in them are followed as a
browser would. Every link works once, for its time, and only for an active account.
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from booking import create_app
from booking.accounts.links import LinkPurpose, make_link_token
from booking.accounts.models import Role, User
from booking.accounts.services import create_user, invite_user, request_password_reset
from booking.database import utcnow
from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, MessageStatus, OutboxMessage
from config import database_url

from tests.factories import csrf_token
from tests.test_admin_access import PASSWORD, log_in

NEW_PASSWORD = "ein ganz neues Passwort"
SAME_ANSWER = "If there is an account with this address, we have sent it a link"


@pytest.fixture
def coordinator(app):
    with app.app_context():
        user = create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                           password=PASSWORD)
        db.session.commit()
        return user.id


def ask_for_reset(client, email, **kwargs):
    response = client.post("/admin/password/forgot",
                           data={"csrf_token": csrf_token(client, "/admin/password/forgot"), "email": email}, **kwargs)
    assert response.status_code == 302, response.status_code
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return response.headers["Location"], re.search(r'<p class="flash[^>]*>(.*?)</p>', page).group(1)


def staff_messages(kind=None):
    query = db.select(OutboxMessage).where(OutboxMessage.user_id.is_not(None)).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def link_in(message, path: str) -> str:
    """The link the email carries, as a path on this site."""
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"http://127\.0\.0\.1:5000({re.escape(path)}[^\s]+)", text).group(1)


def set_password(client, link, password=NEW_PASSWORD, repeat=None):
    # the token from a page that always has a form: a used or expired link's page has none
    return client.post(link, data={"csrf_token": csrf_token(client, "/admin/password/forgot"), "new_password": password,
                                   "repeat_password": repeat if repeat is not None else password})


# --- forgot your password? ------------------------------------------------------------------------

def test_the_login_page_offers_the_forgotten_password_page(client):
    login = client.get("/admin/login").get_data(as_text=True)
    assert 'href="/admin/password/forgot"' in login and "Forgot your password?" in login
    page = client.get("/admin/password/forgot")
    assert page.status_code == 200 and "Enter the email address you log in with" in page.get_data(as_text=True)


def test_the_answer_is_the_same_for_known_unknown_and_inactive_addresses(app, client, coordinator):
    with app.app_context():
        create_user("alt@stadt.example", role=Role.TRAINER, password=PASSWORD).active = False
        db.session.commit()
    known = ask_for_reset(client, "Koordination@Stadt.example ")
    unknown = ask_for_reset(client, "niemand@stadt.example")
    inactive = ask_for_reset(client, "alt@stadt.example")
    assert known == unknown == inactive
    assert known[0] == "/admin/login" and SAME_ANSWER in known[1]
    with app.app_context():
        assert [(m.kind, m.recipient, m.registration_id, m.contact_id, m.user_id) for m in staff_messages()] == [
            (MessageKind.PASSWORD_RESET, "koordination@stadt.example", None, None, coordinator)]


def test_asking_again_soon_sends_no_second_email_and_later_it_does(app_ctx, coordinator):
    start = utcnow()
    request_password_reset("koordination@stadt.example", now=start)
    request_password_reset("koordination@stadt.example", now=start + timedelta(minutes=5))
    assert len(staff_messages()) == 1
    staff_messages()[0].created_at = start  # as if recorded then
    request_password_reset("koordination@stadt.example", now=start + timedelta(minutes=11))
    assert len(staff_messages()) == 2


def test_an_empty_or_overlong_address_is_answered_beside_the_field(client):
    empty = client.post("/admin/password/forgot", data={"csrf_token": csrf_token(client, "/admin/password/forgot"),
                                                         "email": ""})
    assert empty.status_code == 422 and "Please enter your email address." in empty.get_data(as_text=True)
    long = client.post("/admin/password/forgot", data={"csrf_token": csrf_token(client, "/admin/password/forgot"),
                                                        "email": "a" * 300 + "@stadt.example"})
    assert long.status_code == 422 and "Please use at most 254 characters." in long.get_data(as_text=True)


def test_the_reset_link_arrives_sets_a_new_password_logs_in_and_ends_other_sessions(
        app, smtp_server, client, coordinator):
    # (no app context held across requests here: each client must get its own CSRF token)
    phone = app.test_client()
    assert log_in(phone, "koordination@stadt.example").status_code == 302
    ask_for_reset(client, "koordination@stadt.example")
    with app.app_context():
        dispatch_pending()

    [email] = smtp_server.messages
    assert email["To"] == "koordination@stadt.example"
    # emails to the office's staff are in the office's language (German by default)
    assert email["Subject"] == "Neues Passwort für den Arbeitsbereich von Integration Office"
    link = link_in(email, "/admin/password/reset/")
    assert "Der Link gilt bis" in email.get_body(("plain",)).get_content()

    form = client.get(link)
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    assert "Set a new password" in form.get_data(as_text=True)
    response = set_password(client, link)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert "Your new password is saved and you are logged in." in client.get("/admin/").get_data(as_text=True)

    assert phone.get("/admin/").status_code == 302  # the other device is logged out
    assert log_in(app.test_client(), "koordination@stadt.example").status_code == 422  # the old password
    assert log_in(app.test_client(), "koordination@stadt.example", NEW_PASSWORD).status_code == 302

    used = app.test_client().get(link)
    assert used.status_code == 404 and "This link does not work" in used.get_data(as_text=True)
    assert set_password(app.test_client(), link, "noch ein anderes Passwort").status_code == 404


def test_the_email_log_keeps_the_email_without_the_link(app_ctx, smtp_server, coordinator):
    request_password_reset("koordination@stadt.example")
    db.session.commit()
    dispatch_pending()
    link = link_in(smtp_server.messages[0], "/admin/password/reset/")
    token = link.rsplit("/", 1)[1]
    [stored] = staff_messages()
    assert stored.status == MessageStatus.SENT
    assert token not in (stored.body_text + stored.body_html)
    assert "(Der persönliche Link wird im E-Mail-Protokoll nicht gespeichert.)" in stored.body_text


def test_a_refused_new_password_is_answered_beside_the_field_and_the_link_still_works(app_ctx, client, coordinator):
    user = db.session.get(User, coordinator)
    link = "/admin/password/reset/" + make_link_token(
        LinkPurpose.PASSWORD_RESET, user, token_version=user.token_version, expires_at=utcnow() + timedelta(hours=1))
    short = set_password(client, link, "kurz")
    assert short.status_code == 422 and "Please use at least 10 characters." in short.get_data(as_text=True)
    differ = set_password(client, link, NEW_PASSWORD, "ein anderes Passwort")
    assert differ.status_code == 422 and "The two passwords differ." in differ.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302  # not logged in
    assert set_password(client, link).status_code == 302


def test_an_expired_link_says_so_with_a_way_to_a_new_one(app_ctx, client, coordinator):
    user = db.session.get(User, coordinator)
    link = "/admin/password/reset/" + make_link_token(
        LinkPurpose.PASSWORD_RESET, user, token_version=user.token_version, expires_at=utcnow() - timedelta(seconds=1))
    response = client.get(link)
    page = response.get_data(as_text=True)
    assert response.status_code == 410 and "This link has expired" in page and 'href="/admin/password/forgot"' in page
    assert set_password(client, link).status_code == 410
    assert db.session.get(User, coordinator).check_password(PASSWORD)


@pytest.mark.parametrize("token", ["nothing", "a.b.c", "x" * 300, "{public}.ffffffffff.forged"])
def test_unknown_or_forged_links_are_not_found(app_ctx, client, coordinator, token):
    token = token.replace("{public}", db.session.get(User, coordinator).public_id)
    for path in ("/admin/password/reset/", "/admin/invitation/"):
        response = client.get(path + token)
        assert response.status_code == 404 and "This link does not work" in response.get_data(as_text=True)


def test_a_link_made_for_one_purpose_opens_nothing_else(app_ctx, client, coordinator):
    user = db.session.get(User, coordinator)
    token = make_link_token(LinkPurpose.PASSWORD_RESET, user, token_version=user.token_version,
                            expires_at=utcnow() + timedelta(hours=1))
    assert client.get("/admin/invitation/" + token).status_code == 404


def test_a_reset_asked_for_before_the_password_changed_is_not_sent(app, smtp_server, client, coordinator):
    with app.app_context():
        request_password_reset("koordination@stadt.example")
        db.session.commit()
    log_in(client, "koordination@stadt.example")
    client.post("/admin/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                         "repeat_password": NEW_PASSWORD,
                                         "csrf_token": csrf_token(client, "/admin/password")})
    with app.app_context():
        result = dispatch_pending()
        assert result.skipped == 1 and smtp_server.messages == []
        assert "a password was set" in staff_messages()[0].skip_reason


def test_a_reset_for_a_deactivated_account_is_not_sent_and_its_link_does_not_work(app_ctx, smtp_server, coordinator):
    user = db.session.get(User, coordinator)
    token = make_link_token(LinkPurpose.PASSWORD_RESET, user, token_version=user.token_version,
                            expires_at=utcnow() + timedelta(hours=1))
    request_password_reset("koordination@stadt.example")
    user.active = False
    db.session.commit()
    assert dispatch_pending().skipped == 1 and smtp_server.messages == []
    assert app_ctx.test_client().get("/admin/password/reset/" + token).status_code == 404


@contextmanager
def limited_app(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(url) if url else f"sqlite:///{tmp_path / 'l.sqlite'}",
                      "RATELIMIT_ENABLED": True, "BOOKING_LIMIT_PASSWORD_RESET_EMAIL": "2 per hour"})
    with app.app_context():
        db.drop_all()
        db.create_all()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def test_the_forgotten_password_form_is_rate_limited_per_address(tmp_path):
    with limited_app(tmp_path) as app:
        client = app.test_client()
        for ip in ("198.51.100.1", "198.51.100.2"):
            ask_for_reset(client, "someone@stadt.example", environ_base={"REMOTE_ADDR": ip})
        blocked = client.post("/admin/password/forgot", environ_base={"REMOTE_ADDR": "198.51.100.3"},
                              data={"csrf_token": csrf_token(client, "/admin/password/forgot"),
                                    "email": "Someone@stadt.example"})
        assert blocked.status_code == 429 and "Please wait a little" in blocked.get_data(as_text=True)


# --- the invitation -------------------------------------------------------------------------------

def test_an_invitation_arrives_and_its_link_sets_the_password_and_logs_in_once(app, smtp_server, client,
                                                                              coordinator):
    office = app.test_client()
    log_in(office, "koordination@stadt.example")
    response = office.post("/admin/users/invite", data={
        "csrf_token": csrf_token(office, "/admin/users/invite"), "display_name": "Derya Şahin",
        "email": "Derya@Stadt.example", "role": "trainer"})
    assert response.status_code == 302
    with app.app_context():
        dispatch_pending()

    [email] = smtp_server.messages
    assert email["To"] == "Derya@stadt.example"
    assert email["Subject"] == "Ihr Zugang zum Arbeitsbereich von Integration Office"
    text = email.get_body(("plain",)).get_content()
    assert "Guten Tag Derya Şahin," in text and "mit der Rolle „Referentin / Referent“" in text
    link = link_in(email, "/admin/invitation/")

    assert log_in(app.test_client(), "derya@stadt.example", "x").status_code == 422  # no password yet
    page = client.get(link).get_data(as_text=True)
    assert "Welcome to the workspace" in page and "Your login is Derya@stadt.example" in page
    assert set_password(client, link).status_code == 302
    overview = client.get("/admin/").get_data(as_text=True)
    assert "Welcome, Derya Şahin." in overview and "<h1>Overview</h1>" in overview

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "Derya@stadt.example"))
        assert user.check_password(NEW_PASSWORD) and user.last_login_at is not None
    assert app.test_client().get(link).status_code == 404  # used


def test_an_invitation_is_good_for_72_hours(app_ctx, client, coordinator):
    asked = utcnow() - timedelta(hours=71, minutes=59)
    invite_user("neu@stadt.example", role=Role.TRAINER, display_name="Neu", now=asked)
    db.session.commit()
    [message] = staff_messages(MessageKind.USER_INVITATION)
    user = message.user
    expires = message.facts["expires_at"]
    token = make_link_token(LinkPurpose.INVITATION, user, token_version=message.facts["token_version"],
                            expires_at=datetime.fromisoformat(expires))
    assert client.get("/admin/invitation/" + token).status_code == 200
    late = make_link_token(LinkPurpose.INVITATION, user, token_version=user.token_version,
                           expires_at=utcnow() - timedelta(seconds=1))
    response = client.get("/admin/invitation/" + late)
    assert response.status_code == 410 and "ask the office for a new invitation" in response.get_data(as_text=True)
