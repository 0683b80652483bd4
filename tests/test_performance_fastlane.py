"""The fast lane: kept pages answered before Flask, exactly as Flask answers them.

Each test compares what a visitor gets from the fast lane with what Flask gives (the same request
with the page cache off), and counts that the fast lane ran no Flask request and no query but the
data version's. The manage page is kept per link: never another person's, fresh after every change
it shows.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import request, request_started
from itsdangerous import URLSafeTimedSerializer

from booking.attendance import services as attendance
from booking.caching import version as data_version
from booking.caching.pages import page_cache
from booking.extensions import db
from booking.privacy import services as privacy
from booking.registrations import services as registrations
from booking.registrations.models import Registration
from booking.seminars.models import Seminar

from tests.factories import csrf_token, make_applicant, make_association, make_registration, make_seminar, now
from tests.test_admin_seminars import log_in, staff  # noqa: F401  (staff: a fixture)
from tests.test_performance_page_cache import counted_statements

# what differs from one answer to the next whoever answers: the session cookie's signature and
# the time, the CSRF token's value (and so the length)
PER_ANSWER = {"Set-Cookie", "Date", "Content-Length"}


@contextmanager
def flask_requests(app):
    """The requests Flask handled meanwhile (the fast lane's answers are not among them)."""
    handled = []

    def count(sender, **extra):
        handled.append(1)

    request_started.connect(count, app)
    try:
        yield handled
    finally:
        request_started.disconnect(count, app)


@contextmanager
def without_cache(app):
    size = app.config["BOOKING_PAGE_CACHE_SIZE"]
    app.config["BOOKING_PAGE_CACHE_SIZE"] = 0
    try:
        yield
    finally:
        app.config["BOOKING_PAGE_CACHE_SIZE"] = size


def session_of(app, response) -> dict | None:
    """The session cookie the answer sets, as Flask reads it (None: no cookie set)."""
    cookie = response.headers.get("Set-Cookie")
    if cookie is None:
        return None
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    return app.session_interface.get_signing_serializer(app).loads(value)


def cookie_attributes(response) -> str:
    return response.headers["Set-Cookie"].split(";", 1)[1]


def kept_headers(response) -> dict:
    return {name: value for name, value in response.headers.items() if name not in PER_ANSWER}


def without_tokens(page: str) -> str:
    """The page without its CSRF token (each visitor's own) and a feed's DTSTAMPs (the time the
    feed was made: a kept feed keeps them, as its ETag leaves them out)."""
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]*"|^DTSTAMP:.*\r\n', "", page, flags=re.M)


def from_the_lane(app, client, path, **kwargs):
    """GET through the fast lane, checking that Flask did not run and only the version was read."""
    with flask_requests(app) as handled, counted_statements(app) as statements:
        response = client.open(path, **kwargs)
    assert handled == [], f"{path} was answered by Flask"
    assert statements == [data_version._VERSION_SQL], statements
    return response


@pytest.fixture
def seminar(app):
    with app.app_context():
        seminar = make_seminar(capacity=1, title="Vereinsrecht", slug="vereinsrecht")
        db.session.commit()
        return {"id": seminar.id, "slug": seminar.slug}


@pytest.mark.parametrize("path", ["/", "/?topic=x", "/seminars/vereinsrecht", "/calendar.ics",
                                  "/seminars/vereinsrecht.ics"])
def test_a_kept_page_is_answered_without_flask_with_the_status_headers_and_body_flask_gives(app, seminar, path):
    app.test_client().get(path)  # kept
    lane = from_the_lane(app, app.test_client(), path)
    with without_cache(app):
        flask = app.test_client().get(path)
    assert lane.status == flask.status == "200 OK"
    assert kept_headers(lane) == kept_headers(flask)
    assert {"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
            "Vary", "Content-Type"} <= set(lane.headers.keys())
    assert int(lane.headers["Content-Length"]) == len(lane.get_data())
    assert without_tokens(lane.get_data(as_text=True)) == without_tokens(flask.get_data(as_text=True))
    # a visitor without a session gets the one Flask gives: the same cookie, the same contents
    # (a page in no language, a seminar's feed, sets none)
    assert ("Set-Cookie" in lane.headers) == ("Set-Cookie" in flask.headers) == (path != "/seminars/vereinsrecht.ics")
    if "Set-Cookie" in flask.headers:
        assert cookie_attributes(lane) == cookie_attributes(flask)
        assert session_of(app, lane).keys() == session_of(app, flask).keys()  # (a form's page: a CSRF secret each)
        assert session_of(app, lane)["lang"] == session_of(app, flask)["lang"] == "en"


def test_a_feed_is_answered_304_and_head_without_flask_as_flask_answers_them(app, seminar):
    visitor = app.test_client()
    etag = visitor.get("/calendar.ics").headers["ETag"]
    lane = from_the_lane(app, visitor, "/calendar.ics", headers={"If-None-Match": etag})
    with without_cache(app):
        flask = visitor.get("/calendar.ics", headers={"If-None-Match": etag})
    assert lane.status_code == flask.status_code == 304
    assert kept_headers(lane) == kept_headers(flask) and "Content-Type" not in lane.headers
    assert lane.get_data() == b""
    changed = from_the_lane(app, visitor, "/calendar.ics", headers={"If-None-Match": '"another"'})
    assert changed.status_code == 200 and changed.get_data().startswith(b"BEGIN:VCALENDAR")

    get = visitor.get("/seminars/vereinsrecht")
    head = from_the_lane(app, visitor, "/seminars/vereinsrecht", method="HEAD")
    assert head.status_code == 200 and head.get_data() == b""
    assert kept_headers(head) == kept_headers(get)
    assert int(head.headers["Content-Length"]) == len(get.get_data())


def test_a_visitor_without_a_session_gets_a_new_csrf_secret_and_its_token_which_flask_accepts(app, seminar):
    page = "/seminars/vereinsrecht"
    csrf_token(app.test_client(), page)  # kept
    visitor = app.test_client()
    response = from_the_lane(app, visitor, page)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)).group(1)
    session = session_of(app, response)
    assert set(session) == {"lang", "csrf_token"}
    # the token is Flask-WTF's for this visitor's secret
    assert URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").loads(token) == session["csrf_token"]

    again = from_the_lane(app, visitor, page)
    assert "Set-Cookie" not in again.headers  # nothing changed in the session
    token_again = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', again.get_data(as_text=True)).group(1)
    assert URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").loads(token_again) == session["csrf_token"]

    posted = visitor.post(f"{page}/register", data={
        "csrf_token": token_again, "first_name": "Ayşe", "last_name": "Kaya", "email": "ayse@example.net",
        "association_id": "", "new_association": "Frauenverein", "preferred_language": "en", "consent": "y"})
    assert posted.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Registration.first_name).where(Registration.email == "ayse@example.net")) == "Ayşe"


def test_the_language_is_chosen_and_remembered_as_flask_does(app, seminar):
    app.test_client().get("/?lang=tr")  # kept in Turkish
    app.test_client().get("/", headers={"Accept-Language": "ar"})  # kept in Arabic
    visitor = app.test_client()
    switched = from_the_lane(app, visitor, "/?lang=tr")
    assert 'lang="tr"' in switched.get_data(as_text=True)[:200]
    assert session_of(app, switched)["lang"] == "tr"
    # the visit keeps it, over its browser's language, on the lane's pages and on Flask's
    kept = from_the_lane(app, visitor, "/", headers={"Accept-Language": "ar"})
    assert 'lang="tr"' in kept.get_data(as_text=True)[:200] and "Set-Cookie" not in kept.headers
    assert 'lang="tr"' in visitor.get("/lost-link").get_data(as_text=True)[:200]

    browser = from_the_lane(app, app.test_client(), "/", headers={"Accept-Language": "ar-EG,de;q=0.5"})
    assert 'lang="ar" dir="rtl"' in browser.get_data(as_text=True)[:200]
    assert session_of(app, browser)["lang"] == "ar"
    with without_cache(app):
        assert session_of(app, app.test_client().get("/", headers={"Accept-Language": "ar-EG,de;q=0.5"}))["lang"] == "ar"


def test_a_visitor_with_a_message_waiting_or_logged_in_or_an_odd_query_gets_flask(app, seminar, staff):  # noqa: F811
    page = "/seminars/vereinsrecht"
    app.test_client().get(page)  # kept
    bot = app.test_client()
    bot.post(f"{page}/register", data={"csrf_token": csrf_token(bot, page), "website": "http://spam"})
    with flask_requests(app) as handled:
        told = bot.get(page).get_data(as_text=True)
    assert handled and "Thank you. Please check your email." in told

    office = log_in(app.test_client())
    kept = len(page_cache(app))
    with flask_requests(app) as handled:
        assert office.get(page).status_code == 200
    assert handled and len(page_cache(app)) == kept  # and not kept

    visitor = app.test_client()
    with flask_requests(app) as handled:
        assert visitor.get("/?topic=%00").status_code == 400
        assert visitor.get("/?topic=" + "x" * 600).status_code == 200
    assert len(handled) == 2


# --- the manage page, kept per link ---------------------------------------------------------------

@pytest.fixture
def people(app):
    """Leyla has the one place (English), Deniz waits (Turkish); their links. The seminar starts
    tomorrow: a place freed now is offered, not given."""
    with app.app_context():
        start = now().replace(microsecond=0) + timedelta(hours=30)
        seminar = make_seminar([(start, start + timedelta(hours=2))], capacity=1, title="Vereinsrecht",
                               slug="vereinsrecht")
        association = make_association("Kulturverein Offenbach")
        leyla = make_registration(seminar, association, first_name="Leyla", last_name="Yılmaz", preferred_language="en")
        deniz = make_registration(seminar, first_name="Deniz", last_name="Kaya", preferred_language="tr")
        db.session.commit()
        return {"leyla": f"/registrations/{registrations.manage_token(leyla)}", "leyla_id": leyla.id,
                "deniz": f"/registrations/{registrations.manage_token(deniz)}", "deniz_id": deniz.id,
                "seminar_id": seminar.id, "association_id": association.id}


def test_each_link_gets_its_own_page_and_a_tampered_link_none(app, people):
    visitor = app.test_client()
    visitor.get(people["leyla"])
    visitor.get(people["deniz"])
    leyla = from_the_lane(app, visitor, people["leyla"]).get_data(as_text=True)
    deniz = from_the_lane(app, visitor, people["deniz"]).get_data(as_text=True)
    assert "Leyla Yılmaz" in leyla and "Deniz" not in leyla
    assert "Deniz Kaya" in deniz and "Leyla" not in deniz
    assert from_the_lane(app, visitor, people["leyla"]).headers["Cache-Control"] == "no-store"
    tampered = people["leyla"][:-1] + ("A" if people["leyla"][-1] != "A" else "B")
    assert visitor.get(tampered).status_code == 404
    assert visitor.get(people["leyla"] + "x").status_code == 404


def test_the_manage_page_speaks_the_persons_language_unless_the_visit_chose_one(app, people):
    app.test_client().get(people["deniz"])  # kept
    stranger = from_the_lane(app, app.test_client(), people["deniz"])  # English browser, no session
    assert 'lang="tr"' in stranger.get_data(as_text=True)[:200]
    assert "Set-Cookie" not in stranger.headers  # the person's language is not the visit's
    with without_cache(app):
        assert "Set-Cookie" not in app.test_client().get(people["deniz"]).headers

    visitor = app.test_client()
    visitor.get("/?lang=de")
    visitor.get(people["deniz"])  # kept for visits that chose German
    german = from_the_lane(app, visitor, people["deniz"])
    assert 'lang="de"' in german.get_data(as_text=True)[:200]


def test_every_change_the_manage_page_shows_shows_on_the_next_request(app, people):
    visitor = app.test_client()
    visitor.get("/?lang=en")  # Deniz's page in English for this visit
    leyla, deniz = people["leyla"], people["deniz"]

    def page(path):
        response = visitor.get(path)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "You are number 1 on the waiting list." in page(deniz)
    assert "Kulturverein Offenbach" in page(leyla)
    assert "You have told us that you are coming" not in page(leyla)

    with app.app_context():
        coming = f"/registrations/{registrations.coming_token(db.session.get(Registration, people['leyla_id']))}/coming"
    assert visitor.post(coming, data={"csrf_token": csrf_token(visitor, coming)}).status_code == 302
    page("/")  # shows the message the POST flashed
    assert "You have told us that you are coming" in page(leyla)

    with app.app_context():
        db.session.get(Registration, people["leyla_id"]).association.name = "Kulturverein Offenbach e.V."
        db.session.commit()
    assert "Kulturverein Offenbach e.V." in page(leyla)

    cancel = f"{leyla}/cancel"
    assert visitor.post(cancel, data={"csrf_token": csrf_token(visitor, cancel)}).status_code == 302
    page("/")
    assert "This registration is cancelled." in page(leyla)
    assert "A place has become free, and we are offering it to you." in page(deniz)  # the late place offered

    response = visitor.post(f"{deniz}/offer", data={"csrf_token": csrf_token(visitor, deniz), "accept": "1"})
    assert response.status_code == 302
    page("/")
    assert "You have a place." in page(deniz)

    with app.app_context():
        registrations.revoke_links(db.session.get(Registration, people["deniz_id"]))
        db.session.commit()
    assert visitor.get(deniz).status_code == 404


def test_an_attendance_tick_and_a_deletion_show_on_the_next_request(app):
    with app.app_context():
        start = now().replace(microsecond=0) - timedelta(days=8)
        seminar = make_seminar([(start, start + timedelta(hours=2))], title="Vereinsrecht kompakt")
        person = registrations.register(seminar, make_applicant(first_name="Şule", last_name="İnce"), None,
                                        now=start - timedelta(days=1))
        db.session.commit()
        link, person_id, seminar_id = f"/registrations/{registrations.manage_token(person)}", person.id, seminar.id
    visitor = app.test_client()
    assert "Certificate of attendance" not in visitor.get(link).get_data(as_text=True)
    with app.app_context():
        seminar = db.session.get(Seminar, seminar_id)
        attendance.record(seminar.sessions[0], db.session.get(Registration, person_id), "present")
        db.session.commit()
    assert "Certificate of attendance" in visitor.get(link).get_data(as_text=True)

    with app.app_context():
        privacy.anonymise_registration(db.session.get(Registration, person_id))
        db.session.commit()
    page = visitor.get(link).get_data(as_text=True)
    assert "The personal data of this registration has been deleted." in page and "Şule" not in page


def test_kept_pages_of_an_older_version_leave_memory_when_a_newer_version_is_read(app, people):
    visitor = app.test_client()
    visitor.get(people["leyla"])
    token = people["leyla"].rsplit("/", 1)[1]
    assert any(token in key[3] for key in page_cache(app)._pages)
    with app.app_context():
        db.session.get(Seminar, people["seminar_id"]).capacity = 5
        db.session.commit()
    visitor.get("/")  # any kept page's request reads the version
    assert not any(token in key[3] for key in page_cache(app)._pages)


def test_kept_pages_past_their_time_leave_memory_even_in_a_worker_asked_for_nothing(app, people):
    visitor = app.test_client()
    app.config["BOOKING_PAGE_CACHE_SECONDS"] = 0
    visitor.get(people["leyla"])
    assert len(page_cache(app)) == 1
    page_cache(app).sweep()  # what the cache's sweeper thread does every second
    assert len(page_cache(app)) == 0


def test_the_version_is_read_again_on_a_new_connection_after_the_old_one_broke(app, seminar, caplog):
    visitor = app.test_client()
    visitor.get("/")
    reader = app.extensions[data_version.READER]
    reader._local.connection.close()  # the server restarted, say
    with app.app_context():
        db.session.get(Seminar, seminar["id"]).title = "Vereinsrecht kompakt"
        db.session.commit()
    assert "Vereinsrecht kompakt" in visitor.get("/").get_data(as_text=True)
    assert "reconnecting" in caplog.text


def test_a_page_whose_answer_a_later_hook_changed_is_passed_on_as_it_is_and_not_kept(app, seminar):
    @app.after_request
    def unavailable(response):
        if "X-Maintenance" in request.headers:
            response.status_code = 503
        return response

    visitor = app.test_client()
    assert visitor.get("/", headers={"X-Maintenance": "1"}).status_code == 503
    assert len(page_cache(app)) == 0
    assert visitor.get("/").status_code == 200
    assert len(page_cache(app)) == 1
