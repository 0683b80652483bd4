"""Rate limits: each limit proven on an app with limits on and the production values.

The rest of the suite runs with RATELIMIT_ENABLED off (TestingConfig): it posts many forms from
127.0.0.1. Here `app` is built with limits on; Flask-Limiter's extension object is module-global,
so each test's app gets fresh counts (see booking.ratelimits.init_app), which one test checks.
"""
from __future__ import annotations

import os
import re
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from limits import parse_many

from booking import create_app, ratelimits
from booking.associations import services as associations
from booking.associations.models import LinkRequest
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail.models import OutboxMessage
from booking.registrations.models import Registration
from config import Config, TestingConfig, database_url

from tests.factories import csrf_token, make_applicant, make_association, make_registration, make_seminar

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def limited_app(tmp_path, **overrides):
    """An app like the suite's, with rate limits on (and the production limit values)."""
    url = os.environ.get("TEST_DATABASE_URL")
    tmp_path.mkdir(parents=True, exist_ok=True)
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url(url) if url else f"sqlite:///{tmp_path / 'limits.sqlite'}",
        "RATELIMIT_ENABLED": True,
    } | overrides)
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


@pytest.fixture
def app(tmp_path):
    with limited_app(tmp_path) as app:
        yield app


def smallest(app, setting) -> int:
    """The tightest amount of a limit setting ("10 per minute; 60 per hour" -> 10)."""
    return min(item.amount for item in parse_many(app.config[setting]))


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def seeded(app, build):
    with app.app_context():
        result = build()
        db.session.commit()
        return result


def from_ip(ip):
    return {"environ_base": {"REMOTE_ADDR": ip}}


def register(client, slug, email, ip="198.51.100.7", **overrides):
    data = {"csrf_token": csrf_token(client, f"/seminars/{slug}"), "first_name": "Leyla", "last_name": "Yılmaz",
            "email": email, "preferred_language": "de", "new_association": "Kulturverein", "consent": "y"} | overrides
    return client.post(f"/seminars/{slug}/register", data=data, **from_ip(ip))


def group(client, url, contact_email=None, ip="198.51.100.7", **overrides):
    data = {"csrf_token": csrf_token(client, url), "new_association": "Kulturverein",
            "participants-0-first_name": "Gül", "participants-0-last_name": "Aydın",
            "participants-0-email": "", "participants-0-preferred_language": "tr", "consent": "y"} | overrides
    if contact_email is not None:
        data |= {"contact_first_name": "Aylin", "contact_last_name": "Kaya", "contact_email": contact_email}
    return client.post(url, data=data, **from_ip(ip))


def lost_link(client, email, ip="198.51.100.7"):
    return client.post("/lost-link", data={"csrf_token": csrf_token(client, "/lost-link"), "email": email},
                       **from_ip(ip))


def assert_limited(response, *, within: int):
    """The friendly 429 page, with a Retry-After header of at most `within` seconds."""
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Please wait a little" in page
    # the time, with the date when it falls on another day (in the hour before midnight, Berlin time)
    assert re.search(r"You can send it again in \d+ (second|minute|hour)s? \(at ([A-Z][a-z]{2} \d{1,2}, \d{4}, )?"
                     r"\d\d:\d\d\)", page), page
    assert 1 <= int(response.headers["Retry-After"]) <= within + 1  # the limiter rounds up to whole seconds


# --- settings -------------------------------------------------------------------------------------

def test_the_suite_runs_without_limits_and_these_tests_with_the_production_values(app):
    assert TestingConfig.RATELIMIT_ENABLED is False and Config.RATELIMIT_ENABLED is True
    for setting in ratelimits.LIMIT_SETTINGS:
        assert app.config[setting] == getattr(Config, setting)
        assert parse_many(app.config[setting])  # a valid limit string


def test_every_limit_setting_is_in_the_readme():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for setting in (*ratelimits.LIMIT_SETTINGS, "RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI", "RATELIMIT_KEY_PREFIX"):
        assert f"| `{setting}` |" in readme, setting


# --- registration ---------------------------------------------------------------------------------

def test_registrations_per_ip(app, client):
    slug = seeded(app, lambda: make_seminar(capacity=100).slug)
    allowed = smallest(app, "BOOKING_LIMIT_REGISTER_IP")

    # a form sent back with errors counts per IP too: a flood of broken forms is a flood
    assert register(client, slug, "broken@example.net", consent="").status_code == 422
    answers = [register(client, slug, f"person{i}@example.net").status_code for i in range(allowed - 1)]
    limited = register(client, slug, "one-too-many@example.net")

    assert answers == [302] * (allowed - 1)
    assert_limited(limited, within=60)
    with app.app_context():
        assert count(Registration) == allowed - 1
        assert db.session.scalar(db.select(Registration).where(Registration.email == "one-too-many@example.net")) is None
    # another connection is not affected
    assert register(client, slug, "elsewhere@example.net", ip="203.0.113.9").status_code == 302


def test_registrations_per_address_count_only_accepted_ones(app, client):
    allowed = smallest(app, "BOOKING_LIMIT_REGISTER_EMAIL")
    slugs = seeded(app, lambda: [make_seminar().slug for _ in range(allowed + 1)])

    # mistakes corrected do not count: a person is never locked out by their own typos
    for _ in range(3):
        assert register(client, slugs[0], "leyla@example.net", ip="203.0.113.1", consent="").status_code == 422
    # each from another connection, the address written differently: it is one address
    answers = [register(client, slug, address, ip=f"203.0.113.{10 + i}").status_code
               for i, (slug, address) in enumerate(zip(slugs, [" Leyla@Example.NET ", "LEYLA@example.net"] * allowed))]

    assert answers == [302] * allowed + [429]
    with app.app_context():
        assert count(Registration) == allowed
    # someone else from the last connection still gets through
    assert register(client, slugs[-1], "other@example.net", ip=f"203.0.113.{10 + allowed}").status_code == 302


def test_the_429_page_speaks_the_visitors_language_and_says_when(app, client):
    slug = seeded(app, lambda: make_seminar(capacity=100).slug)
    for i in range(smallest(app, "BOOKING_LIMIT_REGISTER_IP")):
        register(client, slug, f"person{i}@example.net")

    limited = client.post(f"/seminars/{slug}/register?lang=de", data={"email": "x@example.net"},
                          **from_ip("198.51.100.7"))

    assert limited.status_code == 429
    page = limited.get_data(as_text=True)
    assert '<html lang="de"' in page
    assert re.search(r"in \d+ (Sekunden?|Minuten?)", page), page  # the wait, in German
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    assert limited.headers["Content-Security-Policy"]  # a page of the site like any other


# --- group registration ---------------------------------------------------------------------------

def test_group_registrations_per_ip_and_row_round_trips_do_not_count(app, client):
    slug = seeded(app, lambda: make_seminar(capacity=100).slug)
    url = f"/seminars/{slug}/group"
    allowed = smallest(app, "BOOKING_LIMIT_GROUP_IP")

    answers = []
    for i in range(allowed):
        for _ in range(3):  # building the list row by row: many round-trips per group
            assert group(client, url, f"contact{i}@verein.example", add_row="1").status_code == 200
        assert group(client, url, f"contact{i}@verein.example", remove_row="1").status_code == 200
        answers.append(group(client, url, f"contact{i}@verein.example").status_code)
    limited = group(client, url, "one-too-many@verein.example")

    assert answers == [302] * allowed
    assert_limited(limited, within=60)
    # rows can still be added while the form waits
    assert group(client, url, "one-too-many@verein.example", add_row="1").status_code == 200
    with app.app_context():
        assert count(Registration) == allowed


def test_group_registrations_per_contact_count_on_both_group_forms(app, client):
    allowed = smallest(app, "BOOKING_LIMIT_GROUP_EMAIL")

    def build():
        seminars = [make_seminar(capacity=50).slug for _ in range(allowed + 1)]
        details = ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                                 phone=None, preferred_language="de")
        first = associations.register_group(make_seminar(), details, [make_applicant()],
                                            make_association("Kulturverein"))
        return seminars, associations.contact_token(first[0].registered_by)
    slugs, token = seeded(app, build)

    # half through the contact's link, half by typing the address, each from another connection
    answers = []
    for i, slug in enumerate(slugs):
        ip = f"203.0.113.{20 + i}"
        if i % 2:
            answers.append(group(client, f"/associations/contact/{token}/seminars/{slug}/group", ip=ip).status_code)
        else:
            answers.append(group(client, f"/seminars/{slug}/group", " Vorstand@Verein.example", ip=ip).status_code)

    assert answers == [302] * allowed + [429]
    with app.app_context():
        assert count(Registration) == 1 + allowed


# --- lost link ------------------------------------------------------------------------------------

def test_lost_link_per_ip(app, client):
    allowed = smallest(app, "BOOKING_LIMIT_LOST_LINK_IP")

    answers = [lost_link(client, f"person{i}@example.net").status_code for i in range(allowed)]

    assert answers == [302] * allowed
    assert_limited(lost_link(client, "one-more@example.net"), within=60)
    assert lost_link(client, "one-more@example.net", ip="203.0.113.5").status_code == 302


def test_lost_link_per_address(app, client):
    allowed = smallest(app, "BOOKING_LIMIT_LOST_LINK_EMAIL")
    seeded(app, lambda: make_registration(make_seminar(), email="leyla@example.net"))

    answers = [lost_link(client, "Leyla@example.net ", ip=f"203.0.113.{30 + i}").status_code
               for i in range(allowed + 1)]

    assert answers == [302] * allowed + [429]
    with app.app_context():
        assert count(LinkRequest) == 1  # the service's own once-an-hour rule, behind the limit
    assert lost_link(client, "other@example.net", ip="203.0.113.99").status_code == 302


# --- login and password reset, ready for the coordinator workspace ------------------------------

def test_login_and_password_reset_limits_count_every_attempt(tmp_path):
    from flask import request

    def sign_in():
        return ("wrong password", 422) if request.form.get("password") != "right" else ("welcome", 200)

    with limited_app(tmp_path, WTF_CSRF_ENABLED=False) as app:
        app.add_url_rule("/test-login", "test_login", ratelimits.login(sign_in), methods=["POST"])
        app.add_url_rule("/test-reset", "test_reset", ratelimits.password_reset(lambda: "sent"), methods=["POST"])
        client = app.test_client()
        per_address = smallest(app, "BOOKING_LIMIT_LOGIN_EMAIL")
        failed = [client.post("/test-login", data={"email": "Office@Example.org", "password": "guess"},
                              **from_ip(f"203.0.113.{i}")).status_code for i in range(per_address)]
        blocked = client.post("/test-login", data={"email": "office@example.org", "password": "right"},
                              **from_ip("203.0.113.200"))
        assert failed == [422] * per_address and blocked.status_code == 429

        per_ip = smallest(app, "BOOKING_LIMIT_PASSWORD_RESET_IP")
        resets = [client.post("/test-reset", data={"email": f"p{i}@example.org"}).status_code for i in range(per_ip)]
        assert resets == [200] * per_ip
        assert client.post("/test-reset", data={"email": "p@example.org"}).status_code == 429


# --- storage --------------------------------------------------------------------------------------

def test_counts_do_not_pass_from_one_app_to_the_next(tmp_path):
    for run in range(2):
        with limited_app(tmp_path / str(run)) as app:
            client = app.test_client()
            allowed = smallest(app, "BOOKING_LIMIT_LOST_LINK_IP")
            answers = [lost_link(client, f"p{i}@example.net").status_code for i in range(allowed + 1)]
            assert answers == [302] * allowed + [429]


def test_limits_off_lets_everything_through(tmp_path):
    with limited_app(tmp_path, RATELIMIT_ENABLED=False) as app:
        client = app.test_client()
        allowed = smallest(app, "BOOKING_LIMIT_LOST_LINK_IP")
        assert {lost_link(client, f"p{i}@example.net").status_code for i in range(allowed + 3)} == {302}


def test_redis_storage_when_configured(tmp_path):
    """RATELIMIT_STORAGE_URI=redis://...: counts live in Redis, under a prefix only this run uses."""
    prefix = f"booking-test-{uuid.uuid4().hex}"
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.ConnectionError:  # pragma: no cover - the machine runs Redis on 127.0.0.1:6379
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: start it (redis-server) to run this test")
    try:
        with limited_app(tmp_path, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix) as app:
            client = app.test_client()
            allowed = smallest(app, "BOOKING_LIMIT_LOST_LINK_IP")
            answers = [lost_link(client, f"p{i}@example.net").status_code for i in range(allowed + 1)]
            keys = [key.decode() for key in server.scan_iter(f"*{prefix}*")]

            assert answers == [302] * allowed + [429]
            assert keys, "no counter was written to Redis"
            assert not any("example.net" in key or "198.51.100.7" in key for key in keys)  # HMACs, not addresses
            # a new app on the same Redis and prefix sees the counts: they are not in the process
        with limited_app(tmp_path / "again", RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix) as app:
            assert lost_link(app.test_client(), "late@example.net").status_code == 429
    finally:
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)
        server.close()


def test_redis_unreachable_the_forms_go_on_counted_in_memory(tmp_path):
    with limited_app(tmp_path, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0") as app:  # nothing listens on port 1
        client = app.test_client()
        allowed = smallest(app, "BOOKING_LIMIT_LOST_LINK_IP")
        answers = [lost_link(client, f"p{i}@example.net").status_code for i in range(allowed + 1)]

    assert answers == [302] * allowed + [429]
