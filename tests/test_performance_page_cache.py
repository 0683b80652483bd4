"""Public pages that skip the database: kept per data version, never stale, never another visitor's.

A kept page costs one query (the data version) or none (with Redis or the file of
BOOKING_CACHE_URL: tests/test_performance_version_file.py for the file); every change a page shows
raises the version in its own transaction, so the next request renders afresh. The same across
gunicorn workers: tests/test_performance_workers.py.
"""
from __future__ import annotations

import re
import secrets
import shutil
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from booking.caching import version as data_version
from booking.extensions import db
from booking.mail.models import OutboxMessage
from booking.registrations.models import Registration, RegistrationStatus
from booking.registrations.services import manage_token
from booking.seminars import scheduling
from booking.seminars.models import Seminar, Session

from tests.factories import csrf_token, make_association, make_registration, make_seminar
from tests.test_admin_seminars import edit_data, log_in, staff  # noqa: F401  (staff: a fixture)


@contextmanager
def counted_statements(app):
    """The statements run meanwhile: through SQLAlchemy, and the data version's own reads on the
    DBAPI connection of booking/caching/version.py's VersionReader (which SQLAlchemy does not see)."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    reader = app.extensions[data_version.READER]

    def count(conn, cursor, statement, parameters, context, executemany):
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK)", statement):
            statements.append(statement)

    def counted_query(cursor):
        statements.append(data_version._VERSION_SQL)
        return data_version.VersionReader._query(reader, cursor)

    event.listen(engine, "before_cursor_execute", count)
    reader._query = counted_query
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
        del reader._query


def text(client, path, **kwargs) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def availability(page: str) -> list[str]:
    """The availability lines of the page, as a visitor reads them."""
    return [re.sub(r"\s+", " ", line).strip() for line in
            re.findall(r'<span class="(?:availability[^"]*|waitlist-length)">(.*?)</span>', page, re.S)]


def register(app, slug: str, email: str) -> str:
    """A registration through the form, by a visitor of their own; returns the manage path."""
    visitor = app.test_client()
    response = visitor.post(f"/seminars/{slug}/register", data={
        "csrf_token": csrf_token(visitor, f"/seminars/{slug}"), "first_name": "Leyla", "last_name": "Yılmaz",
        "email": email, "association_id": "", "new_association": "Kulturverein", "preferred_language": "en",
        "consent": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def cancel(app, manage_path: str) -> None:
    visitor = app.test_client()
    response = visitor.post(f"{manage_path}/cancel", data={"csrf_token": csrf_token(visitor, f"{manage_path}/cancel")})
    assert response.status_code == 302


@pytest.fixture
def seminar(app):
    with app.app_context():
        seminar = make_seminar(capacity=2, title="Vereinsrecht", slug="vereinsrecht")
        db.session.commit()
        return {"id": seminar.id, "slug": seminar.slug}


def test_a_kept_page_is_answered_after_reading_only_the_data_version(app, seminar):
    visitor = app.test_client()
    for path in ("/", "/?topic=" + "x", f"/seminars/{seminar['slug']}", "/calendar.ics"):
        first = text(visitor, path)
        with counted_statements(app) as statements:
            again = text(visitor, path)
        assert len(statements) == 1 and "data_version" in statements[0], (path, statements)
        # the same page, the CSRF token aside
        assert re.sub(r'value="[^"]*"', "", again) == re.sub(r'value="[^"]*"', "", first)


def test_registration_cancellation_and_promotion_each_show_on_the_next_request(app, seminar):
    visitor = app.test_client()
    page = f"/seminars/{seminar['slug']}"
    assert availability(text(visitor, "/")) == ["2 places left"]
    assert availability(text(visitor, page)) == ["2 places left"]

    first = register(app, seminar["slug"], "leyla@example.net")
    assert availability(text(visitor, "/")) == ["1 place left"]
    assert availability(text(visitor, page)) == ["1 place left"]

    cancel(app, first)
    assert availability(text(visitor, "/")) == ["2 places left"]

    register(app, seminar["slug"], "ahmet@example.net")
    second = register(app, seminar["slug"], "guel@example.net")
    assert availability(text(visitor, page)) == ["Fully booked – waiting list", "Nobody is waiting yet"]
    register(app, seminar["slug"], "deniz@example.net")
    assert availability(text(visitor, "/")) == ["Fully booked – waiting list", "1 person is waiting"]
    assert availability(text(visitor, page)) == ["Fully booked – waiting list", "1 person is waiting"]

    cancel(app, second)  # Deniz moves up
    with app.app_context():
        deniz = db.session.scalar(db.select(Registration).where(Registration.email == "deniz@example.net"))
        assert deniz.status == RegistrationStatus.CONFIRMED
    assert availability(text(visitor, "/")) == ["Fully booked – waiting list", "Nobody is waiting yet"]
    assert availability(text(visitor, page)) == ["Fully booked – waiting list", "Nobody is waiting yet"]


def test_a_session_change_and_a_coordinator_edit_show_on_the_next_request(app, seminar, staff):  # noqa: F811
    visitor = app.test_client()
    page = f"/seminars/{seminar['slug']}"
    assert "Cancelled" not in text(visitor, page)
    feed = text(visitor, "/calendar.ics")
    with app.app_context():
        session = db.session.scalar(db.select(Session).where(Session.seminar_id == seminar["id"]))
        scheduling.cancel_session(session, reason="Raum nicht verfügbar")
        db.session.commit()
    assert "Cancelled" in text(visitor, page)
    assert text(visitor, "/calendar.ics") != feed

    office = log_in(app.test_client())
    with app.app_context():
        current = db.session.get(Seminar, seminar["id"])
        data = edit_data(current, title="Vereinsrecht kompakt")
    response = office.post(f"/admin/seminars/{seminar['id']}/edit",
                           data=data | {"csrf_token": csrf_token(office, f"/admin/seminars/{seminar['id']}/edit")})
    assert response.status_code == 302
    assert "Vereinsrecht kompakt" in text(visitor, page)
    assert "Vereinsrecht kompakt" in text(visitor, "/")
    assert "Vereinsrecht kompakt" in text(visitor, "/calendar.ics")


def test_a_language_switch_shows_on_the_next_request_and_stays_with_that_visitor(app, seminar):
    visitor, other = app.test_client(), app.test_client()
    assert 'lang="en"' in text(visitor, "/")[:200]
    assert 'lang="en"' in text(other, "/")[:200]
    assert 'lang="de"' in text(visitor, "/?lang=de")[:200]
    assert 'lang="de"' in text(visitor, "/")[:200]  # the visit keeps its language
    assert 'lang="en"' in text(other, "/")[:200]
    arabic = text(app.test_client(), f"/seminars/{seminar['slug']}", headers={"Accept-Language": "ar"})
    assert 'lang="ar" dir="rtl"' in arabic[:200]
    assert 'lang="en"' in text(other, f"/seminars/{seminar['slug']}")[:200]


def test_each_visitor_gets_their_own_csrf_token_and_cookie_from_a_kept_page(app, seminar):
    page = f"/seminars/{seminar['slug']}"
    first, second = app.test_client(), app.test_client()
    first_token = csrf_token(first, page)
    with counted_statements(app) as statements:
        second_token = csrf_token(second, page)  # answered from the kept page
    assert len(statements) == 1
    assert first_token != second_token
    assert first.get_cookie("session").value != second.get_cookie("session").value

    def post(client, token, email):
        return client.post(f"{page}/register", data={
            "csrf_token": token, "first_name": "Ayşe", "last_name": "Kaya", "email": email,
            "association_id": "", "new_association": "Frauenverein", "preferred_language": "en", "consent": "y"})

    assert post(second, first_token, "stolen@example.net").status_code == 422  # not the second visitor's
    assert post(second, second_token, "ayse@example.net").status_code == 302
    assert post(first, first_token, "fatma@example.net").status_code == 302


def test_a_page_with_a_message_for_one_visitor_is_neither_kept_nor_served_from_the_cache(app, seminar):
    page = f"/seminars/{seminar['slug']}"
    bot, visitor = app.test_client(), app.test_client()
    text(visitor, page)
    response = bot.post(f"{page}/register", data={"csrf_token": csrf_token(bot, page), "website": "http://spam"})
    assert response.status_code == 302
    told = text(bot, page)
    assert "Thank you. Please check your email." in told
    assert "Thank you. Please check your email." not in text(visitor, page)
    assert "Thank you. Please check your email." not in text(bot, page)  # shown once


def test_what_no_kept_page_shows_keeps_the_version(app, seminar):
    with app.app_context():
        before = data_version.database_version()
        registration = make_registration(db.session.get(Seminar, seminar["id"]))
        db.session.commit()
        after_registration = data_version.database_version()
        for message in db.session.scalars(db.select(OutboxMessage)):  # the mail worker's bookkeeping
            message.attempts += 1
        db.session.commit()
        assert after_registration == before + 1
        assert data_version.database_version() == after_registration


def test_bulk_statements_and_changes_after_a_rolled_back_savepoint_raise_the_version(app, seminar):
    with app.app_context():
        before = data_version.database_version()
        db.session.execute(db.update(Seminar).where(Seminar.id == seminar["id"]).values(capacity=5))
        db.session.commit()
        assert data_version.database_version() == before + 1

        savepoint = db.session.begin_nested()
        db.session.get(Seminar, seminar["id"]).capacity = 6
        db.session.flush()
        savepoint.rollback()
        db.session.get(Seminar, seminar["id"]).capacity = 7
        db.session.commit()
        assert data_version.database_version() == before + 2

        db.session.get(Seminar, seminar["id"]).capacity = 8
        db.session.rollback()
        assert data_version.database_version() == before + 2


def test_the_data_version_is_raised_last_just_before_the_commit(app, seminar):
    """The one row every writer shares is updated after the registration's own statements, so its lock
    (PostgreSQL) is held only through the COMMIT; the version still rises with the registration."""
    with app.app_context():
        engine = db.engine
        before = data_version.database_version()
    writes: list[str] = []

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        if re.match(r"\s*(INSERT|UPDATE|DELETE)", statement):
            writes.append(statement)

    def on_commit(connection):
        writes.append("COMMIT")

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        register(app, seminar["slug"], "leyla@example.net")
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)
    bumps = [index for index, statement in enumerate(writes) if "data_version" in statement]
    assert bumps == [len(writes) - 2] and writes[-1] == "COMMIT", writes
    assert any(statement.lstrip().startswith("INSERT INTO registrations") for statement in writes[:bumps[0]])
    with app.app_context():
        assert data_version.database_version() == before + 1
        assert db.session.scalar(db.select(db.func.count(Registration.id))) == 1


def test_a_change_left_to_the_commit_and_one_in_a_released_savepoint_raise_the_version_once(app, seminar):
    with app.app_context():
        before = data_version.database_version()
        with db.session.begin_nested():
            db.session.get(Seminar, seminar["id"]).capacity = 4
        assert data_version.database_version() == before  # a savepoint released is no commit
        db.session.get(Seminar, seminar["id"]).title = "Vereinsrecht kompakt"  # flushed only by the commit
        db.session.commit()
        assert data_version.database_version() == before + 1
        assert db.session.get(Seminar, seminar["id"]).title == "Vereinsrecht kompakt"


@pytest.fixture(params=["redis", "file"])
def mirrored_app(request, app, tmp_path):
    """The app with BOOKING_CACHE_URL: the data version mirrored in Redis (a key prefix of its own)
    or in a file of this machine (a folder of its own)."""
    if request.param == "redis":
        app.config["BOOKING_CACHE_URL"] = "redis://127.0.0.1:6379/0"
        app.config["RATELIMIT_KEY_PREFIX"] = f"test-{secrets.token_hex(6)}"
    else:
        app.config["BOOKING_CACHE_URL"] = f"file://{tmp_path / 'data-version'}"
    yield app
    if request.param == "redis":
        with app.app_context():
            client = data_version.redis_client()
            client.delete(data_version.redis_key(), f"{data_version.redis_key()}:highest")
            client.close()
    data_version._clients.clear()
    data_version._file_mirrors.clear()


def test_with_a_mirror_a_kept_page_costs_no_query_and_a_change_shows_on_the_next_request(mirrored_app, seminar):
    app = mirrored_app
    visitor = app.test_client()
    page = f"/seminars/{seminar['slug']}"
    text(visitor, page)
    with counted_statements(app) as statements:
        assert availability(text(visitor, page)) == ["2 places left"]
    assert statements == []

    register(app, seminar["slug"], "leyla@example.net")
    with app.app_context():
        assert data_version.mirror().get() == data_version.database_version()
    assert availability(text(visitor, page)) == ["1 place left"]


def _redis_unreachable(tmp_path):
    return "redis://127.0.0.1:1/0", "Redis unreachable"  # nothing listens there


def _file_gone(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    url = f"file://{folder / 'data-version'}"  # accepted at the start...
    shutil.rmtree(folder)  # ...and removed while running (a tmpfs cleaned): the file cannot be made
    return url, "data version file unusable (FileNotFoundError)"


@pytest.mark.parametrize("unusable", [_redis_unreachable, _file_gone], ids=["redis", "file"])
def test_with_the_mirror_unusable_pages_are_read_from_the_database_and_stay_fresh(
        app, seminar, caplog, tmp_path, unusable):
    app.config["BOOKING_CACHE_URL"], warning = unusable(tmp_path)
    try:
        visitor = app.test_client()
        page = f"/seminars/{seminar['slug']}"
        assert availability(text(visitor, page)) == ["2 places left"]
        register(app, seminar["slug"], "leyla@example.net")
        assert availability(text(visitor, page)) == ["1 place left"]
        assert warning in caplog.text
    finally:
        for client in data_version._clients.values():
            client.close()
        data_version._clients.clear()
        data_version._file_mirrors.clear()


def test_a_kept_page_is_dropped_after_its_seconds_since_time_alone_changes_pages(app, seminar):
    app.config["BOOKING_PAGE_CACHE_SECONDS"] = 0
    visitor = app.test_client()
    text(visitor, "/")
    with counted_statements(app) as statements:
        text(visitor, "/")
    assert len(statements) > 1  # rendered again


def test_a_registration_request_renders_no_email_and_commits_once(app, seminar):
    """The request records its emails in the outbox; the mail worker renders and sends them later."""
    from flask import template_rendered

    visitor = app.test_client()
    token = csrf_token(visitor, f"/seminars/{seminar['slug']}")
    rendered, commits = [], []

    def on_render(sender, template, context, **extra):
        rendered.append(template.name)

    def on_commit(connection):
        commits.append(connection)

    with app.app_context():
        engine = db.engine
    template_rendered.connect(on_render, app)
    event.listen(engine, "commit", on_commit)
    try:
        response = visitor.post(f"/seminars/{seminar['slug']}/register", data={
            "csrf_token": token, "first_name": "Leyla", "last_name": "Yılmaz", "email": "leyla@example.net",
            "association_id": "", "new_association": "Kulturverein", "preferred_language": "en", "consent": "y"})
    finally:
        template_rendered.disconnect(on_render, app)
        event.remove(engine, "commit", on_commit)
    assert response.status_code == 302
    assert len(commits) == 1
    assert not [name for name in rendered if name.startswith("emails/")], rendered
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) >= 1  # recorded, to be rendered later


def test_the_mirror_hears_of_a_version_only_once_it_is_committed(mirrored_app, seminar):
    app = mirrored_app
    with app.app_context():
        committed = data_version.database_version()
        store = data_version.mirror()
        with db.session.begin_nested():  # a savepoint released is no commit
            db.session.get(Seminar, seminar["id"]).capacity = 9
        stored = store.get()
        assert stored is None or stored <= committed
        db.session.commit()
        assert store.get() == data_version.database_version() == committed + 1


def test_the_mirror_never_goes_down_and_the_same_number_makes_it_valid_again(mirrored_app):
    with mirrored_app.app_context():
        store = data_version.mirror()
        store.set_if_not_lower(41)
        store.set_if_not_lower(40)  # a commit that published late
        assert store.get() == 41
        store.set_if_not_lower(42)
        assert store.get() == 42
        if isinstance(store, data_version.RedisMirror):
            store.client.delete(store.key)  # as if MIRROR_SECONDS had passed
        else:
            data_version._FILE_LAYOUT.pack_into(store._map, 0, 42, 0.0)  # valid until long ago
        assert store.get() is None  # requests read the database
        store.set_if_not_lower(3)  # a database restored from a backup: never written
        assert store.get() is None
        store.set_if_not_lower(42)  # the number read from the database again
        assert store.get() == 42
