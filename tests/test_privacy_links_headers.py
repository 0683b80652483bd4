"""Pages and feeds with personal data are kept by no cache (`no-store`, found by walking the URL map),
HSTS in production, and the mbox mail log: off in production, mode 0600 where on."""
from __future__ import annotations

import os
import re
import stat

import pytest

from booking import create_app
from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.registrations import services as registrations
from config import ProductionConfig, TestingConfig

from tests.conftest import _database_url
from tests.factories import make_applicant, make_association, make_registration, make_seminar
from tests.test_admin_access import log_in, staff  # noqa: F401  (the fixture)

# pages with personal data that no `<token>` or /admin prefix gives away
OTHER_PERSONAL_ENDPOINTS = {"associations.group_registered"}


def personal(rule) -> bool:
    return ("token" in rule.arguments or rule.rule.startswith("/admin")
            or rule.endpoint in OTHER_PERSONAL_ENDPOINTS)


@pytest.fixture
def world(app, staff):  # noqa: F811
    """A seminar with a participant and a group, and the values that fill each URL rule's parts."""
    with app.app_context():
        seminar = make_seminar(sessions=1)
        registration = make_registration(seminar)
        [member] = associations.register_group(
            seminar, ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                                    preferred_language="en"),
            [make_applicant(email=None)], make_association("Kulturverein"))
        db.session.commit()
        session = seminar.sessions[0]
        return {
            "manage_token": registrations.manage_token(registration),
            "contact_token": associations.contact_token(member.registered_by),
            "slug": seminar.slug, "public_id": member.public_id, "seminar_id": seminar.id,
            "session_id": session.id, "registration_id": registration.id, "message_id": 1,
            "user_id": staff["trainer_id"], "association_id": member.association_id, "topic_id": 1,
            "coordinator": staff["coordinator"],
        }


def url_for_rule(rule, world) -> str:
    def value(name):
        if name == "token":
            if rule.endpoint.startswith("associations."):
                return world["contact_token"]
            if rule.endpoint.startswith("accounts."):
                return "Pid.6a1b2c.NotAValidMac"  # a staff link: its page says it is invalid
            return world["manage_token"]
        return str(world[name])

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: value(m.group(1)), rule.rule)


def test_every_page_and_feed_with_personal_data_sends_no_store(app, client, world):
    rules = [rule for rule in app.url_map.iter_rules() if personal(rule)]
    endpoints = {rule.endpoint for rule in rules}
    # the walk reaches every kind: manage, cancel, feeds, contact pages, staff links, the workspace
    assert {"public.manage", "public.cancel", "calendar.registration_feed", "associations.contact",
            "associations.contact_feed", "associations.contact_cancel", "accounts.reset_password",
            "accounts.accept_invitation", "admin.dashboard", "admin.registration_page"} <= endpoints
    log_in(client, world["coordinator"])
    checked = 0
    for rule in rules:
        url = url_for_rule(rule, world)
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method)
        assert "no-store" in response.headers.get("Cache-Control", ""), (url, method, response.status_code)
        checked += response.status_code == 200
    assert checked >= 20  # real pages, not only refusals

    for feed in (f"/registrations/{world['manage_token']}.ics",
                 f"/associations/contact/{world['contact_token']}/calendar.ics"):
        response = client.get(feed)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"

    # the public catalogue and a seminar's feed may be cached
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    assert client.get(f"/seminars/{world['slug']}.ics").headers["Cache-Control"] == "no-cache"


def test_answers_to_forms_are_not_stored_either(app, client, world):
    response = client.post(f"/seminars/{world['slug']}/register", data={"first_name": "Leyla"})
    assert response.status_code in (400, 422)
    assert "no-store" in response.headers["Cache-Control"]


def production_app(tmp_path, **overrides):
    class Production(ProductionConfig):
        SECRET_KEY = "production-test-secret"
        SQLALCHEMY_DATABASE_URI = _database_url(tmp_path)

    for key, value in overrides.items():
        setattr(Production, key, value)
    return create_app(Production)


def test_hsts_in_production_on_https(tmp_path):
    app = production_app(tmp_path, BOOKING_BASE_URL="http://seminare.example.org")
    client = app.test_client()
    secure = client.get("/nothing-here", base_url="https://seminare.example.org")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/nothing-here").headers  # plain http

    # behind a proxy that does not say https: the production address says so
    app = production_app(tmp_path, BOOKING_BASE_URL="https://seminare.example.org")
    assert app.test_client().get("/nothing-here").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_outside_production(client):
    assert TestingConfig.BOOKING_HSTS_SECONDS == 0
    assert "Strict-Transport-Security" not in client.get("/nothing-here", base_url="https://localhost").headers


@pytest.mark.skipif("BOOKING_MAIL_LOG" in os.environ, reason="the environment sets a mail log")
def test_the_mail_log_is_off_in_production(tmp_path):
    assert ProductionConfig.BOOKING_MAIL_LOG == ""
    assert production_app(tmp_path).config["BOOKING_MAIL_LOG"] == ""


@pytest.mark.parametrize("existing_mode", [None, 0o644])
def test_the_mail_log_is_written_for_the_owner_only(app, tmp_path, existing_mode):
    path = tmp_path / "sent-mail.mbox"
    if existing_mode is not None:
        path.write_bytes(b"")
        path.chmod(existing_mode)
    app.config.update(MAIL_SERVER="", BOOKING_MAIL_LOG=str(path))
    previous = os.umask(0o022)
    try:
        with app.app_context():
            make_registration(make_seminar(sessions=1), email="leyla@example.net")
            db.session.commit()
            assert dispatch_pending().sent == 2
            db.session.commit()
    finally:
        os.umask(previous)
    assert b"leyla@example.net" in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
