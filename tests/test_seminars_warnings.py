"""Scheduling help: a session that clashes with another of the same trainer or at the same venue, or falls on a
Hessian public holiday or in the school holidays, is saved all the same and warned about beside its row, on the
seminar's page and in the editor.

Dates are taken in the next calendar year (so every session is still to come) and the school holidays from a file of
the test's own (BOOKING_SCHOOL_HOLIDAYS_FILE), so that no test depends on today's date; the shipped file is checked
on its own.
"""
from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.easter import easter
from playwright.sync_api import expect

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.extensions import db
from booking.seminars import schedule_warnings
from booking.seminars.models import Seminar, SeminarStatus, Session, SessionStatus
from booking.seminars.school_holidays import SHIPPED_FILE, parse

from tests.browser import browser, horizontal_overflow, live_server, phone_page  # noqa: F401
from tests.factories import csrf_token, make_seminar, make_topic, now

PASSWORD = "ein langes Passwort"
BERLIN = ZoneInfo("Europe/Berlin")  # BOOKING_TIMEZONE of the tests
YEAR = now().year + 1
PLAIN_DAY = date(YEAR, 11, 16)  # no public holiday in Hesse, not in the test's school holidays
SUMMER_DAY = date(YEAR, 7, 20)
EASTER_MONDAY = easter(YEAR) + timedelta(days=1)
UNITY_DAY = date(YEAR, 10, 3)


def at(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def school_holidays_file(app, tmp_path):
    path = tmp_path / "school_holidays_he.csv"
    path.write_text("# the test's school holidays\nfirst_day,last_day,name\n"
                    f"{YEAR}-07-05,{YEAR}-08-13,Sommerferien\n"
                    f"{YEAR + 9}-12-23,{YEAR + 10}-01-10,Weihnachtsferien\n", encoding="utf-8")
    app.config["BOOKING_SCHOOL_HOLIDAYS_FILE"] = str(path)
    return path


@pytest.fixture
def staff(app):
    with app.app_context():
        create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                    password=PASSWORD)
        trainer = create_user("trainerin@stadt.example", role=Role.TRAINER, display_name="Ayşe Demir",
                              password=PASSWORD)
        other = create_user("zweiter@stadt.example", role=Role.TRAINER, display_name="Ayşe Demir",
                            password=PASSWORD)  # the same name, another person
        topic = make_topic(name="Vereinsrecht")
        db.session.commit()
        return {"trainer_id": trainer.id, "other_trainer_id": other.id, "topic_id": topic.id}


def log_in(client, email="koordination@stadt.example"):
    response = client.post("/admin/login", data={"email": email, "password": PASSWORD,
                                                 "csrf_token": csrf_token(client, "/admin/login")})
    assert response.status_code == 302
    return client


@pytest.fixture
def office(client, staff):
    return log_in(client)


def seminar_in_db(app, **values) -> int:
    """A published seminar stored directly (the other seminar a new one clashes with)."""
    sessions = values.pop("sessions")
    with app.app_context():
        seminar = make_seminar(sessions=sessions, **values)
        db.session.commit()
        return seminar.id


def form_data(topic_id, sessions, **overrides) -> dict:
    data = {"title": "Neue Vereinsfinanzen", "topic_id": str(topic_id), "languages": ["de"], "capacity": "12",
            "trainer": "Derya Şahin", "venue_name": "Bürgerhaus Nord", "venue_address": "Am Hang 3", "save": "1"}
    for index, (day, starts, ends) in enumerate(sessions):
        data |= {f"sessions-{index}-day": day.isoformat(), f"sessions-{index}-starts": starts,
                 f"sessions-{index}-ends": ends}
    return data | overrides


def create(client, topic_id, sessions, **overrides):
    data = form_data(topic_id, sessions, **overrides)
    return client.post("/admin/seminars/new", data=data | {"csrf_token": csrf_token(client, "/admin/seminars/new")})


def newest_seminar(app) -> Seminar:
    with app.app_context():
        seminar = db.session.scalar(db.select(Seminar).order_by(Seminar.id.desc()))
        _ = seminar.sessions
        return seminar


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def page_rows(client, seminar_id) -> dict[int, str]:
    """The seminar page's session rows, by session id: the raw HTML of each row."""
    page = client.get(f"/admin/seminars/{seminar_id}").get_data(as_text=True)
    return {int(i): row for i, row in re.findall(r'<tr id="session-(\d+)">(.*?)</tr>', page, re.S)}


def editor_rows(page: str) -> dict[int, str]:
    """The editor's session rows, by row number."""
    return {int(n): row for n, row in re.findall(r'<fieldset class="session-row" id="session-(\d+)">(.*?)</fieldset>',
                                                  page, re.S)}


def session_ids(app, seminar_id) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(db.select(Session.id).where(Session.seminar_id == seminar_id)
                                       .order_by(Session.starts_at)))


# --- overlaps ------------------------------------------------------------------------------------

def test_a_session_overlapping_one_of_the_same_trainer_account_is_saved_and_warned_about_with_a_link(
        app, office, staff, client):
    other_id = seminar_in_db(app, title="Satzung schreiben", trainer="Ayşe Demir",
                             trainer_user_id=staff["trainer_id"], venue_name="Haus der Vereine",
                             sessions=[(at(PLAIN_DAY, "18:00"), at(PLAIN_DAY, "20:30"))])
    other_session, = session_ids(app, other_id)

    response = create(client, staff["topic_id"], [(PLAIN_DAY, "19:00", "21:00"), (PLAIN_DAY + timedelta(days=7),
                                                                                 "19:00", "21:00")],
                      trainer_user_id=str(staff["trainer_id"]), trainer="")
    assert response.status_code == 302  # saving still succeeds
    seminar = newest_seminar(app)
    assert seminar.title == "Neue Vereinsfinanzen" and len(seminar.sessions) == 2

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The seminar is saved as a draft." in text_of(page)
    assert "Please check 1 scheduling warning beside its session below." in text_of(page)
    first, second = session_ids(app, seminar.id)
    rows = page_rows(client, seminar.id)
    assert "The same trainer has another session then: Satzung schreiben" in text_of(rows[first])
    assert f'href="/admin/seminars/{other_id}#session-{other_session}"' in rows[first]
    assert "schedule-warnings" not in rows[second]  # a week later: nothing to check

    # the other seminar's page warns about the new one too (a draft, so it says so)
    other_row = page_rows(client, other_id)[other_session]
    assert "The same trainer has another session then: Neue Vereinsfinanzen (Draft)" in text_of(other_row)


def test_the_same_trainer_name_counts_when_a_seminar_has_no_account_and_two_accounts_are_two_people(
        app, office, staff, client):
    seminar_in_db(app, title="Ohne Konto", trainer="Derya  ŞAHIN", venue_name="Anderswo",
                  sessions=[(at(PLAIN_DAY, "18:00"), at(PLAIN_DAY, "20:00"))])
    seminar_in_db(app, title="Namensvetter", trainer="Ayşe Demir", trainer_user_id=staff["other_trainer_id"],
                  venue_name="Anderswo", sessions=[(at(PLAIN_DAY, "18:00"), at(PLAIN_DAY, "20:00"))])

    create(client, staff["topic_id"], [(PLAIN_DAY, "19:00", "20:30")], trainer="Derya Şahin")
    seminar = newest_seminar(app)
    row, = page_rows(client, seminar.id).values()
    assert "The same trainer has another session then: Ohne Konto" in text_of(row)

    # an account and the same name on another account: two people with one name, no warning
    create(client, staff["topic_id"], [(PLAIN_DAY, "19:00", "20:30")], trainer_user_id=str(staff["trainer_id"]),
           trainer="", title="Mit Konto")
    row, = page_rows(client, newest_seminar(app).id).values()
    assert "Namensvetter" not in text_of(row)


def test_a_session_at_the_same_venue_and_time_is_warned_about_whatever_the_spelling(app, office, staff, client):
    seminar_in_db(app, title="Im Haus der Vereine", trainer="Jemand anderes", venue_name="Haus der Vereine",
                  venue_address="Bieberer Straße 1", sessions=[(at(PLAIN_DAY, "17:00"), at(PLAIN_DAY, "19:00"))])

    create(client, staff["topic_id"], [(PLAIN_DAY, "18:30", "20:00"), (PLAIN_DAY, "19:00", "21:00")],
           venue_name="haus der Vereine ", venue_address="Bieberer Str. 1")
    seminar = newest_seminar(app)
    first, second = session_ids(app, seminar.id)
    rows = page_rows(client, seminar.id)
    assert "Another session at the same venue then: Im Haus der Vereine" in text_of(rows[first])
    assert "same venue" not in text_of(rows[second])  # 19:00: the other one is over
    # two sessions of the new seminar overlap each other
    assert "Overlaps another session of this seminar" in text_of(rows[second])

    # a session with a place of its own is elsewhere: no venue warning
    create(client, staff["topic_id"], [(PLAIN_DAY, "18:00", "19:00")], venue_name="Haus der Vereine",
           venue_address="Bieberer Straße 1", **{"sessions-0-venue_name": "Stadtbibliothek",
                                                 "sessions-0-venue_address": "Herrnstraße 84"}, title="Woanders",
           trainer="Noch jemand")
    row, = page_rows(client, newest_seminar(app).id).values()
    assert "schedule-warnings" not in row


def test_cancelled_sessions_and_cancelled_seminars_neither_warn_nor_are_warned_about(app, office, staff, client):
    with app.app_context():
        cancelled_session = make_seminar(title="Abgesagter Termin", trainer="Derya Şahin",
                                         sessions=[(at(PLAIN_DAY, "18:00"), at(PLAIN_DAY, "20:00"))])
        cancelled_session.sessions[0].status = SessionStatus.CANCELLED
        make_seminar(title="Abgesagtes Seminar", trainer="Derya Şahin", status=SeminarStatus.CANCELLED,
                     sessions=[(at(PLAIN_DAY, "18:00"), at(PLAIN_DAY, "20:00"))])
        mine = make_seminar(title="Meins", trainer="Derya Şahin", venue_name="Bürgerhaus Nord",
                            venue_address="Am Hang 3",
                            sessions=[(at(PLAIN_DAY, "18:00"), at(PLAIN_DAY, "20:00")),
                                      (at(EASTER_MONDAY, "18:00"), at(EASTER_MONDAY, "20:00"))])
        mine.sessions[1].status = SessionStatus.CANCELLED  # on a holiday, but cancelled
        db.session.commit()
        mine_id = mine.id

    rows = page_rows(client, mine_id)
    assert rows and all("schedule-warnings" not in row for row in rows.values())

    response = create(client, staff["topic_id"], [(PLAIN_DAY, "18:30", "19:30")])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Please check 2 scheduling warnings beside the sessions below." in text_of(page)  # trainer and venue
    row, = page_rows(client, newest_seminar(app).id).values()
    assert "The same trainer has another session then: Meins" in text_of(row)  # the scheduled one counts ...
    assert "Another session at the same venue then: Meins" in text_of(row)
    assert "Abgesagt" not in text_of(row)  # ... the cancelled session and the cancelled seminar do not


# --- holidays ------------------------------------------------------------------------------------

def test_easter_monday_unity_day_and_the_school_holidays_each_warn_beside_their_own_row(app, office, staff, client):
    response = create(client, staff["topic_id"], [
        (PLAIN_DAY, "18:00", "20:00"), (EASTER_MONDAY, "18:00", "20:00"), (UNITY_DAY, "10:00", "16:00"),
        (SUMMER_DAY, "18:00", "20:00")])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Please check 3 scheduling warnings beside the sessions below." in text_of(page)
    seminar = newest_seminar(app)
    assert len(seminar.sessions) == 4  # nothing refused
    rows = page_rows(client, seminar.id)  # sessions in time order: Easter, summer, October, November
    easter_monday, summer, unity, plain = (text_of(rows[i]) for i in session_ids(app, seminar.id))
    assert "Warning" not in plain and "holiday" not in plain
    assert "Public holiday in Hesse: Easter Monday" in easter_monday and "German Unity Day" not in easter_monday
    assert "Public holiday in Hesse: German Unity Day" in unity and "School holidays" not in unity
    assert "School holidays in Hesse: Summer holidays" in summer and "Public holiday" not in summer
    assert f"{YEAR}" in summer and "Aug 13" in summer  # the holidays' dates

    # the editor shows them beside the same rows (in time order there too)
    rows = editor_rows(client.get(f"/admin/seminars/{seminar.id}/edit").get_data(as_text=True))
    assert "Easter Monday" in text_of(rows[1]) and "Summer holidays" in text_of(rows[2])
    assert "German Unity Day" in text_of(rows[3]) and "schedule-warnings" not in rows[4]
    assert "Easter Monday" not in text_of(rows[2] + rows[3] + rows[4])


def test_a_published_seminar_moved_onto_a_holiday_shows_the_warning_before_the_participants_are_told(
        app, office, staff, client):
    from booking.registrations.models import RegistrationStatus
    from tests.factories import make_registration

    with app.app_context():
        seminar = make_seminar(title="Veröffentlicht", trainer="Derya Şahin",
                               sessions=[(at(PLAIN_DAY, "18:00"), at(PLAIN_DAY, "20:00"))])
        assert make_registration(seminar).status == RegistrationStatus.CONFIRMED
        db.session.commit()
        seminar_id, session_id, version = seminar.id, seminar.sessions[0].id, seminar.version
    data = {"title": "Veröffentlicht", "topic_id": str(newest_seminar(app).topic_id), "languages": ["de"],
            "capacity": "10", "trainer": "Derya Şahin", "venue_name": "Haus der Vereine", "version": str(version),
            "sessions-0-session_id": str(session_id), "sessions-0-day": EASTER_MONDAY.isoformat(),
            "sessions-0-starts": "18:00", "sessions-0-ends": "20:00", "save": "1"}
    path = f"/admin/seminars/{seminar_id}/edit"
    page = client.post(path, data=data | {"csrf_token": csrf_token(client, path)}).get_data(as_text=True)
    assert "Nothing is saved yet." in text_of(page)
    assert "Public holiday in Hesse: Easter Monday" in text_of(editor_rows(page)[1])


def test_in_the_browser_the_save_goes_through_and_the_warnings_stand_beside_their_sessions(
        app, staff, live_server, phone_page):
    other_id = seminar_in_db(app, title="Satzung schreiben", trainer="Derya Şahin", venue_name="Anderswo",
                             sessions=[(at(PLAIN_DAY, "18:00"), at(PLAIN_DAY, "20:30"))])
    page = phone_page
    page.goto(live_server("/admin/seminars/new"))
    page.get_by_label("Email address").fill("koordination@stadt.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Title").fill("Vereinsfinanzen")
    page.get_by_label("Topic").select_option(label="Vereinsrecht")
    page.get_by_label("Places").fill("12")
    page.get_by_label("Trainer's name as shown in the catalogue").fill("Derya Şahin")
    page.locator("#sessions-0-day").fill(PLAIN_DAY.isoformat())
    page.locator("#sessions-0-starts").fill("19:00")
    page.locator("#sessions-0-ends").fill("21:00")
    page.get_by_role("button", name="Add another session").click()
    page.locator("#sessions-1-day").fill(EASTER_MONDAY.isoformat())
    page.locator("#sessions-1-starts").fill("18:00")
    page.locator("#sessions-1-ends").fill("20:00")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_text("saved as a draft")).to_be_visible()
    expect(page.locator(".flash-warning")).to_have_text("Please check 2 scheduling warnings beside the sessions below.")
    easter_row, plain_row = page.locator("tbody tr[id^=session-]").all()  # in time order
    expect(easter_row).to_contain_text("Public holiday in Hesse: Easter Monday")
    expect(plain_row).to_contain_text("The same trainer has another session then: Satzung schreiben")
    expect(plain_row).not_to_contain_text("Easter Monday")
    assert horizontal_overflow(page) == 0
    assert page.console_log.csp_violations == []

    plain_row.get_by_role("link", name="Satzung schreiben").click()  # the link leads to the other session's row
    assert page.url.endswith(f"/admin/seminars/{other_id}#session-{session_ids(app, other_id)[0]}")
    expect(page.locator(f"#session-{session_ids(app, other_id)[0]}")).to_contain_text(
        "The same trainer has another session then: Vereinsfinanzen (Draft)")


# --- who sees them --------------------------------------------------------------------------------

def test_the_trainer_reads_their_seminar_page_without_the_warnings_naming_other_seminars(app, staff, client):
    seminar_in_db(app, title="Fremdes Seminar", trainer="Jemand", venue_name="Haus der Vereine",
                  venue_address="Bieberer Straße 1", sessions=[(at(PLAIN_DAY, "18:00"), at(PLAIN_DAY, "20:00"))])
    mine = seminar_in_db(app, title="Ihr Seminar", trainer="Ayşe Demir", trainer_user_id=staff["trainer_id"],
                         venue_name="Haus der Vereine", venue_address="Bieberer Straße 1",
                         sessions=[(at(PLAIN_DAY, "18:00"), at(PLAIN_DAY, "20:00"))])
    log_in(client, "trainerin@stadt.example")
    row, = page_rows(client, mine).values()
    assert "Fremdes Seminar" not in row and "schedule-warnings" not in row
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, f"/admin/seminars/{mine}")})
    log_in(client)
    row, = page_rows(client, mine).values()
    assert "Another session at the same venue then: Fremdes Seminar" in text_of(row)


# --- the rule itself ------------------------------------------------------------------------------

def test_sessions_that_are_over_are_not_warned_about(app_ctx):
    seminar = make_seminar(trainer="Derya Şahin", sessions=[(at(EASTER_MONDAY, "18:00"), at(EASTER_MONDAY, "20:00"))])
    session_id = seminar.sessions[0].id
    before = at(EASTER_MONDAY, "12:00")
    found = schedule_warnings.session_warnings(seminar, now=before)
    assert [(w.kind, str(w.name)) for w in found[session_id]] == [("public_holiday", "Easter Monday")]
    assert schedule_warnings.session_warnings(seminar, now=at(EASTER_MONDAY, "20:00")) == {}


def test_venues_are_compared_after_normalising_and_online_sessions_have_none():
    key = schedule_warnings.venue_key
    assert key("Haus der Vereine", "Bieberer Straße 1") == key(" HAUS  der vereine", "Bieberer Str. 1")
    assert key("Haus der Vereine", "Bieberer Straße 1") == key("Haus der Vereine", "bieberer strasse 1")
    assert key("Haus der Vereine", "Bieberer Straße 1") != key("Haus der Vereine", "Bieberer Straße 11")
    assert key("", "") is None and key(None, None) is None


# --- the school holiday file ----------------------------------------------------------------------

def test_the_shipped_file_holds_the_hessian_school_holidays_2026_to_2028():
    holidays = parse(SHIPPED_FILE.read_text(encoding="utf-8"), SHIPPED_FILE)
    assert holidays.problems == []
    for year in (2026, 2027, 2028):
        names = sorted(p.name for p in holidays.periods if p.first_day.year == year)
        assert names == ["Herbstferien", "Osterferien", "Sommerferien", "Weihnachtsferien"], year
    on = {day: [p.name for p in holidays.on(day, day)] for day in (
        date(2026, 4, 6), date(2026, 7, 15), date(2026, 12, 24), date(2027, 1, 12), date(2027, 3, 29),
        date(2027, 8, 6), date(2027, 10, 10), date(2028, 4, 10), date(2028, 7, 3), date(2027, 1, 13),
        date(2027, 4, 5), date(2028, 5, 2))}
    assert on == {
        date(2026, 4, 6): ["Osterferien"], date(2026, 7, 15): ["Sommerferien"],
        date(2026, 12, 24): ["Weihnachtsferien"], date(2027, 1, 12): ["Weihnachtsferien"],
        date(2027, 3, 29): ["Osterferien"], date(2027, 8, 6): ["Sommerferien"], date(2027, 10, 10): ["Herbstferien"],
        date(2028, 4, 10): ["Osterferien"], date(2028, 7, 3): ["Sommerferien"],
        date(2027, 1, 13): [], date(2027, 4, 5): [], date(2028, 5, 2): []}
    assert holidays.covered_until >= date(2028, 12, 31)


def test_the_office_file_may_use_german_dates_and_semicolons_and_a_bad_line_is_named_in_the_editor(
        app, office, staff, client, school_holidays_file):
    school_holidays_file.write_text(
        "first_day;last_day;name\n"
        f"20.07.{YEAR};24.07.{YEAR};Sommerferien\n"
        f"31.02.{YEAR};01.03.{YEAR};Kaputt\n"
        f"01.01.{YEAR + 9};05.01.{YEAR + 9};Weihnachtsferien\n", encoding="utf-8")
    page = client.get("/admin/seminars/new").get_data(as_text=True)
    assert "Some lines of the school holiday list cannot be read and are left out:" in text_of(page)
    assert f"Line 3: “31.02.{YEAR}” is not a date" in text_of(page)

    create(client, staff["topic_id"], [(SUMMER_DAY, "18:00", "20:00")])
    row, = page_rows(client, newest_seminar(app).id).values()
    assert "School holidays in Hesse: Summer holidays" in text_of(row)


def test_a_session_after_the_last_day_of_the_school_holiday_list_says_so(app, office, staff, client,
                                                                          school_holidays_file):
    school_holidays_file.write_text(f"first_day,last_day,name\n{YEAR}-07-05,{YEAR}-08-13,Sommerferien\n",
                                    encoding="utf-8")
    create(client, staff["topic_id"], [(PLAIN_DAY, "18:00", "20:00")])
    row, = page_rows(client, newest_seminar(app).id).values()
    assert "The school holiday list ends on" in text_of(row) and "cannot be checked" in text_of(row)
