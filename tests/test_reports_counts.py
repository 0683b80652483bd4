"""The funder's report against a data set whose every count is worked out by hand below: the page,
the XLSX cells and the PDF's text show them; nobody is named; the number of queries does not grow
with the data; only coordinators see it; bad periods get a message beside their field and 400."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.attendance import services as attendance
from booking.extensions import db
from booking.privacy.services import anonymise_registration
from booking.registrations import services as registrations
from booking.reports import services as reports
from booking.seminars.models import SeminarStatus, SessionStatus

from tests.factories import make_applicant, make_association, make_seminar, make_topic, utc
from tests.pdf_text import text_lines
from tests.test_admin_access import PASSWORD, log_in

COORDINATOR = "koordination@stadt.example"
TRAINER = "trainerin@stadt.example"
PERIOD = "from=2025-03-01&to=2025-06-30"


def two_hours(*start):
    return (utc(*start), utc(*start) + timedelta(hours=2))


def register(seminar, association=None, **person):
    """Registered through the real service a week before the seminar's first session."""
    first = min(session.starts_at for session in seminar.sessions)
    return registrations.register(seminar, make_applicant(**person), association, now=first - timedelta(days=7))


def tick(session, registration, status):
    attendance.record(session, registration, status, now=session.starts_at)


@pytest.fixture
def seeded(app):
    """Period: 1 March to 30 June 2025 (Europe/Berlin).

    In it: S1 law (2 sessions, March), S2 money (3 sessions, the middle one cancelled; April, May),
    S3 law (one session in June, one in 2027: not over), S8 public relations (one session at 00:30 on
    1 March in Berlin, 23:30 on 28 February in UTC). Not in it: S4 (February), S5 (cancelled
    seminar), S6 (its only session in the period cancelled), S7 (00:30 on 1 July in Berlin).
    """
    with app.app_context():
        create_user(COORDINATOR, role=Role.COORDINATOR, display_name="Koordination", password=PASSWORD)
        create_user(TRAINER, role=Role.TRAINER, display_name="Trainerin", password=PASSWORD)
        law = make_topic(name="Vereinsrecht", slug="law")
        money = make_topic(name="Finanzen", slug="money")
        pr = make_topic(name="Öffentlichkeitsarbeit", slug="pr")
        a1 = make_association("Kulturverein Nord", district="Nordend")
        a2 = make_association("Elternverein Süd", district="Südstadt")
        a3 = make_association("Jugendverein Nord", district="Nordend")
        a4 = make_association('=HYPERLINK("http://evil.example")', district="")

        s1 = make_seminar([two_hours(2025, 3, 10, 17), two_hours(2025, 3, 17, 17)], topic=law,
                          title="Vereinsrecht kompakt", languages="de tr", capacity=3)
        r1 = register(s1, a1, first_name="Leyla", last_name="Yılmaz", email="leyla@example.net",
                      preferred_language="tr")
        r2 = register(s1, a2, first_name="Ahmet", last_name="Kaya", email="ahmet@example.net",
                      preferred_language="de")
        r3 = register(s1, None, first_name="Sara", last_name="Haddad", email="sara@example.net",
                      preferred_language="ar")
        r4 = register(s1, a1, first_name="Wanda", last_name="Wartend", email="wanda@example.net")
        r5 = register(s1, None, first_name="Gustav", last_name="Gegangen", email="gustav@example.net")
        assert r4.status == r5.status == "waitlisted"
        registrations.cancel_registration(r5, now=s1.sessions[0].starts_at - timedelta(days=5))
        tick(s1.sessions[0], r1, "present"), tick(s1.sessions[1], r1, "present")
        tick(s1.sessions[0], r2, "present"), tick(s1.sessions[1], r2, "absent")
        tick(s1.sessions[0], r3, "excused"), tick(s1.sessions[1], r3, "present")

        s2 = make_seminar([two_hours(2025, 4, 7, 16), two_hours(2025, 4, 14, 16), two_hours(2025, 5, 5, 16)],
                          topic=money, title="Kassenführung", languages="ar", capacity=10)
        r6 = register(s2, a3, first_name="Omar", last_name="Nasser", email="omar@example.net",
                      preferred_language="ar")
        r7 = register(s2, a4, first_name="Rana", last_name="Saleh", email="rana@example.net",
                      preferred_language="ar")
        r8 = register(s2, None, first_name="Carla", last_name="Cancel", email="carla@example.net")
        registrations.cancel_registration(r8, now=s2.sessions[0].starts_at - timedelta(days=6))
        r9, r10 = associations.register_group(
            s2, ContactDetails("Aylin", "Vorstand", "vorstand@eltern.example"),
            [make_applicant(first_name="Gül", last_name="Aydın", email="gul@example.net", preferred_language="tr"),
             make_applicant(first_name="Hans", last_name="Huber", email="hans@example.net",
                            preferred_language="de")],
            a2, now=s2.sessions[0].starts_at - timedelta(days=7))
        s2.sessions[1].status = SessionStatus.CANCELLED
        tick(s2.sessions[0], r6, "present"), tick(s2.sessions[2], r6, "present")
        tick(s2.sessions[0], r7, "present")
        tick(s2.sessions[0], r9, "absent")

        s3 = make_seminar([two_hours(2025, 6, 20, 15), two_hours(2027, 1, 10, 15)], topic=law,
                          title="Satzung schreiben", languages="de", capacity=5)
        r11 = register(s3, a1, first_name="Mehmet", last_name="Öztürk", email="mehmet@example.net",
                       preferred_language="de")
        tick(s3.sessions[0], r11, "present")

        s8 = make_seminar([(utc(2025, 2, 28, 23, 30), utc(2025, 3, 1, 1, 0))], topic=pr,
                          title="Pressearbeit", languages="en", capacity=1)
        r14 = register(s8, a1, first_name="Nadia", last_name="Early", email="nadia@example.net",
                       preferred_language="en")
        r15 = register(s8, None, first_name="Peter", last_name="Platzlos", email="peter@example.net")
        assert r15.status == "waitlisted"
        tick(s8.sessions[0], r14, "present")

        # not in the period
        s4 = make_seminar([two_hours(2025, 2, 10, 17)], topic=law, title="Februar", languages="fa")
        tick(s4.sessions[0], register(s4, a1, first_name="Fritz", last_name="Februar", email="fritz@example.net"),
             "present")
        register(make_seminar([two_hours(2025, 2, 11, 17)], topic=law, capacity=1, title="Voll im Februar"),
                 first_name="Xaver", last_name="X", email="x@example.net")
        s5 = make_seminar([two_hours(2025, 4, 1, 17)], topic=pr, title="Abgesagt")
        register(s5, a2, first_name="Zora", last_name="Zorn", email="zora@example.net")
        s5.status = SeminarStatus.CANCELLED
        s6 = make_seminar([two_hours(2025, 4, 2, 17)], topic=pr, title="Termin abgesagt")
        register(s6, a2, first_name="Yusuf", last_name="Yok", email="yusuf@example.net")
        s6.sessions[0].status = SessionStatus.CANCELLED
        s7 = make_seminar([(utc(2025, 6, 30, 22, 30), utc(2025, 7, 1, 0, 0))], topic=pr, title="Juli")
        register(s7, a2, first_name="Julia", last_name="Juli", email="julia@example.net")

        anonymise_registration(r1)  # still counts
        db.session.commit()
        people = [("Leyla", "Yılmaz", "leyla@example.net"), ("Ahmet", "Kaya", "ahmet@example.net"),
                  ("Sara", "Haddad", "sara@example.net"), ("Wanda", "Wartend", "wanda@example.net"),
                  ("Gustav", "Gegangen", "gustav@example.net"), ("Omar", "Nasser", "omar@example.net"),
                  ("Rana", "Saleh", "rana@example.net"), ("Carla", "Cancel", "carla@example.net"),
                  ("Gül", "Aydın", "gul@example.net"), ("Hans", "Huber", "hans@example.net"),
                  ("Aylin", "Vorstand", "vorstand@eltern.example"), ("Mehmet", "Öztürk", "mehmet@example.net"),
                  ("Nadia", "Early", "nadia@example.net"), ("Peter", "Platzlos", "peter@example.net")]
        return SimpleNamespace(people=people)


# --- worked out by hand -------------------------------------------------------------------------
# Seminars held: S1, S3 (law), S2 (money), S8 (public relations) = 4.
# Sessions held: S1 2 + S2 2 (one cancelled) + S3 1 (2027 not yet) + S8 1 = 6.
# Participants (places): S1 r1 r2 r3, S2 r6 r7 r9 r10 (r8 cancelled), S3 r11, S8 r14 = 9; r9 and r10 as a group.
# Lists at the sessions held: 3 + 3 + 4 + 4 + 1 + 1 = 16; present 2 + 2 + 2 + 1 + 1 + 1 = 9 (56 %);
# absent r2, r9 = 2 of 12 ticked (17 %); excused r3 = 1.
# Completed (seminars over: S1, S2, S8 with 3 + 4 + 1 = 8 participants): r1, r6, r14 = 3 (38 %).
# Associations: Kulturverein Nord r1 r11 r14 = 3, Elternverein Süd r2 r9 r10 = 3, Jugendverein Nord r6 = 1,
# the formula-named one r7 = 1, none r3 = 1. Districts: Nordend 4, Südstadt 3, not given 2.
# Languages of instruction: German 2 (S1, S3), Turkish 1, Arabic 1, English 1.
# Preferred: Arabic 3 (r3 r6 r7), German 3 (r2 r10 r11), Turkish 2 (r1 r9), English 1 (r14).
# Waiting list: S1 r4 still waiting, r5 left; S8 r15 still waiting = 3 (law 2, public relations 1).
# Months: March 3 sessions, 7 expected, 5 present; April 1, 4, 2; May 1, 4, 1; June 1, 1, 1.

def table_rows(page: str, table_id: str) -> list[list[str]]:
    table = page[page.index(f'id="{table_id}"'):]
    table = table[:table.index("</table>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows.append([re.sub(r"\s+", " ", cell) for cell in cells])
    return rows


def figures(page: str) -> dict[str, str]:
    summary = page[page.index('id="report-summary"'):]
    summary = summary[:summary.index("</dl>")]
    return {re.sub(r"\s+", " ", term).strip(): re.sub(r"\s+", " ", value).strip()
            for term, value in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", summary, re.S)}


def test_the_page_shows_the_counts_worked_out_by_hand(client, seeded):
    log_in(client, COORDINATOR)
    response = client.get(f"/admin/report?{PERIOD}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = figures(page)
    assert shown["Seminars held"] == "4"
    assert shown["Sessions held"] == "6"
    assert shown["Participants (places taken)"] == "9"
    assert shown["Of them registered by their association as a group"] == "2"
    assert shown["Of them registered on their own"] == "7"
    assert shown["Attendance rate"] == "56% (9 present of 16 expected at the sessions held)"
    assert shown["No-show rate"] == "17% (2 absent without excuse of 12 recorded)"
    assert shown["Excused"] == "1"
    assert shown["Completion rate"] == (
        "38% (3 completed of 8 participants of the seminars that are over)")
    assert shown["Could not get a place"] == "3"

    assert table_rows(page, "report-topics")[1:] == [
        ["Finanzen", "1", "2", "4", "38%"],
        ["Öffentlichkeitsarbeit", "1", "1", "1", "100%"],
        ["Vereinsrecht", "2", "3", "4", "71%"],
    ]
    assert table_rows(page, "report-months")[1:] == [
        ["March 2025", "3", "7", "5"], ["April 2025", "1", "4", "2"], ["May 2025", "1", "4", "1"],
        ["June 2025", "1", "1", "1"]]
    assert table_rows(page, "report-associations")[1:] == [
        ["Elternverein Süd", "3"], ["Kulturverein Nord", "3"], ['=HYPERLINK(&#34;http://evil.example&#34;)', "1"],
        ["Jugendverein Nord", "1"], ["No association", "1"]]
    assert table_rows(page, "report-districts")[1:] == [["Nordend", "4"], ["Südstadt", "3"],
                                                          ["District not given", "2"]]
    assert table_rows(page, "report-instruction-languages")[1:] == [
        ["German", "2"], ["Arabic", "1"], ["English", "1"], ["Turkish", "1"]]
    assert table_rows(page, "report-preferred-languages")[1:] == [
        ["Arabic", "3"], ["German", "3"], ["Turkish", "2"], ["English", "1"]]
    assert table_rows(page, "report-waiting")[1:] == [
        ["Pressearbeit", "Öffentlichkeitsarbeit", "1", "0", "1"],
        ["Vereinsrecht kompakt", "Vereinsrecht", "1", "1", "2"]]
    assert table_rows(page, "report-waiting-topics")[1:] == [["Öffentlichkeitsarbeit", "1"], ["Vereinsrecht", "2"]]
    # seminars outside the period, cancelled, or with only a cancelled session are in no table
    for title in ("Februar", "Abgesagt", "Termin abgesagt", "Juli"):
        assert f">{title}<" not in page
    # the charts: accessible images with the same figures
    assert page.count('<svg class="chart"') == 3
    assert 'role="img" aria-labelledby="chart-seminars-title chart-seminars-desc"' in page
    assert "<title id=\"chart-months-title\">Attendance per month</title>" in page
    assert page.count("direction=\"ltr\"") == 3
    assert "style=" not in page[page.index("<svg"):page.rindex("</svg>")]
    # the downloads for the same period
    assert 'href="/admin/report.xlsx?from=2025-03-01&amp;to=2025-06-30"' in page
    assert 'href="/admin/report.pdf?from=2025-03-01&amp;to=2025-06-30"' in page
    for first, last, email in seeded.people:
        assert last not in page and email not in page, last


def test_the_spreadsheet_holds_the_same_counts_and_no_formula(client, seeded):
    from openpyxl import load_workbook

    log_in(client, COORDINATOR)
    response = client.get(f"/admin/report.xlsx?{PERIOD}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename=report-2025-03-01-2025-06-30.xlsx'
    workbook = load_workbook(io.BytesIO(response.data))
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Period from"].date() == date(2025, 3, 1)
    assert summary["Period to (including)"].date() == date(2025, 6, 30)
    assert summary["Seminars held"] == 4
    assert summary["Sessions held"] == 6
    assert summary["Participants (places taken)"] == 9
    assert summary["Of them registered by their association as a group"] == 2
    assert summary["Expected at the sessions held"] == 16
    assert summary["Present"] == 9
    assert summary["Absent without excuse"] == 2
    assert summary["Excused"] == 1
    assert summary["Attendance rate"] == pytest.approx(9 / 16)
    assert summary["No-show rate"] == pytest.approx(2 / 12)
    assert summary["Completed"] == 3
    assert summary["Completion rate"] == pytest.approx(3 / 8)
    assert summary["Could not get a place"] == 3
    assert [list(row) for row in workbook["Topics"].iter_rows(min_row=2, values_only=True)] == [
        ["Finanzen", 1, 2, 4, 8, 3], ["Öffentlichkeitsarbeit", 1, 1, 1, 1, 1], ["Vereinsrecht", 2, 3, 4, 7, 5]]
    assert [list(row) for row in workbook["Months"].iter_rows(min_row=2, values_only=True)] == [
        ["March 2025", 3, 7, 5], ["April 2025", 1, 4, 2], ["May 2025", 1, 4, 1], ["June 2025", 1, 1, 1]]
    assert [list(row) for row in workbook["Associations"].iter_rows(min_row=2, values_only=True)] == [
        ["Elternverein Süd", 3], ["Kulturverein Nord", 3], ['\'=HYPERLINK("http://evil.example")', 1],
        ["Jugendverein Nord", 1], ["No association", 1]]
    assert [list(row) for row in workbook["Districts"].iter_rows(min_row=2, values_only=True)] == [
        ["Nordend", 4], ["Südstadt", 3], ["District not given", 2]]
    assert [list(row) for row in workbook["Languages"].iter_rows(min_row=2, values_only=True)] == [
        ["German", 2, 3], ["Arabic", 1, 3], ["Turkish", 1, 2], ["English", 1, 1]]
    assert [list(row) for row in workbook["Waiting list"].iter_rows(min_row=2, values_only=True)] == [
        ["Pressearbeit", "Öffentlichkeitsarbeit", 1, 0, 1], ["Vereinsrecht kompakt", "Vereinsrecht", 1, 1, 2]]
    cells = [str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row]
    assert not [cell for cell in cells if cell.startswith("=")]
    for first, last, email in seeded.people:
        assert not [cell for cell in cells if last in cell or email in cell], last


def test_the_pdf_holds_the_same_counts_and_charts(client, seeded):
    log_in(client, COORDINATOR)
    response = client.get(f"/admin/report.pdf?{PERIOD}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    lines = text_lines(response.data)
    text = "\n".join(lines)
    assert "Report for the funder" in lines
    for expected in ("Seminars held 4", "Sessions held 6", "Participants (places taken) 9",
                     "9 present of 16 expected", "2 absent without excuse of 12 recorded",
                     "3 completed of 8 participants", "Vereinsrecht 2 3 4 71%", "Finanzen 1 2 4 38%",
                     "March 2025 3 7 5", "Nordend 4", "Südstadt 3", "District not given 2",
                     "Vereinsrecht kompakt Vereinsrecht 1 1 2"):
        assert expected in re.sub(r"\s+", " ", text), expected
    # the three charts are in it, their labels and values drawn as text (SVG, not pictures of text)
    for title in ("Seminars held per topic", "Participants per topic", "Attendance per month"):
        assert title in lines, title
    assert "Expected Present" in lines  # the month chart's legend
    assert lines.count("Vereinsrecht") == 2  # a label in each topic chart (the tables say more on the line)
    for first, last, email in seeded.people:
        assert last not in text and email not in text, last


def test_the_pdf_in_arabic_draws_its_charts_from_the_right(client, seeded):
    from tests.pdf_text import glyph_lines, read_left_to_right

    def chart_label_starts(query: str) -> list[float]:
        """Where the text "Vereinsrecht" begins on the page, each time it stands alone (a chart's label, a cell)."""
        response = client.get(f"/admin/report.pdf?{PERIOD}{query}")
        assert response.status_code == 200
        return [line[0].x for line in glyph_lines(response.data) if read_left_to_right(line) == "Vereinsrecht"]

    log_in(client, COORDINATOR)
    english, arabic = chart_label_starts(""), chart_label_starts("&lang=ar")
    middle = 595 / 2  # of an A4 page, in points
    # the charts' labels and the tables' cells: on the left in English, on the right in Arabic
    assert len(english) >= 2 and all(x < middle for x in english), english
    assert len(arabic) >= 2 and all(x > middle for x in arabic), arabic


def test_the_number_of_queries_does_not_grow_with_the_data(app):
    with app.app_context():
        def seed(people: int, seminars: int):
            for n in range(seminars):
                association = make_association(district=f"Bezirk {n}")
                seminar = make_seminar([two_hours(2025, 3 + n % 3, 10 + n, 17), two_hours(2025, 4 + n % 3, 3, 17)],
                                       capacity=people)
                for i in range(people + 2):  # two on the waiting list
                    registration = register(seminar, association if i % 2 else None, email=f"p{n}-{i}@example.net")
                    if registration.status == "confirmed":
                        tick(seminar.sessions[0], registration, ("present", "absent", "excused")[i % 3])
            db.session.commit()

        def queries_for_report() -> tuple[int, reports.Report]:
            statements = []

            def count(conn, cursor, statement, *args):
                statements.append(statement)

            event.listen(db.engine, "before_cursor_execute", count)
            try:
                report = reports.build(reports.Period(date(2025, 1, 1), date(2025, 12, 31)))
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
            return len(statements), report

        seed(people=2, seminars=1)
        small, report = queries_for_report()
        assert report.participants == 2 and report.seminars == 1
        seed(people=8, seminars=5)
        large, report = queries_for_report()
        assert report.participants == 2 + 5 * 8 and report.seminars == 6
        assert report.waiting_total == 2 + 5 * 2
        assert large == small


# --- who may, and bad periods ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/admin/report", "/admin/report.xlsx", "/admin/report.pdf"])
def test_a_trainer_may_not_see_the_report(client, seeded, path):
    log_in(client, TRAINER)
    assert client.get(f"{path}?{PERIOD}").status_code == 403
    assert 'href="/admin/report"' not in client.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/report", "/admin/report.xlsx", "/admin/report.pdf"])
def test_an_anonymous_visitor_is_sent_to_log_in(client, seeded, path):
    response = client.get(f"{path}?{PERIOD}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_the_coordinators_navigation_links_the_report_for_the_year_so_far(client, seeded):
    log_in(client, COORDINATOR)
    assert 'href="/admin/report"' in client.get("/admin/").get_data(as_text=True)
    page = client.get("/admin/report").get_data(as_text=True)
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()  # BOOKING_TIMEZONE's today
    assert f'value="{today.year}-01-01"' in page
    assert f'name="to" required type="date" value="' in page


@pytest.mark.parametrize("query, field, message", [
    ("from=2025-13-01&to=2025-06-30", "from", "Please enter a date (day, month and year)."),
    ("from=2025-03-01&to=", "to", "Please enter a date (day, month and year)."),
    ("from=&to=", "from", "Please enter a date (day, month and year)."),
    ("from=2025-03-01&to=2025-02-28", "to", "The end of the period cannot be before its start."),
    ("from=2025-03-01&to=2028-03-01", "to", "A report covers at most 3 years: please choose a shorter period."),
])
@pytest.mark.parametrize("path", ["/admin/report", "/admin/report.xlsx", "/admin/report.pdf"])
def test_a_bad_period_gets_a_message_beside_its_field(client, seeded, path, query, field, message):
    log_in(client, COORDINATOR)
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in page
    assert 'id="report-summary"' not in page


def test_three_years_to_the_day_are_allowed(client, seeded):
    log_in(client, COORDINATOR)
    assert client.get("/admin/report?from=2025-03-01&to=2028-02-29").status_code == 200


def test_the_reports_attendance_counts_are_attendances_own(app, seeded):
    """The counts made for many seminars at once agree with attendance's rules for one seminar."""
    from booking.seminars.models import Seminar, Session

    with app.app_context():
        seminars = list(db.session.scalars(db.select(Seminar)))
        totals = attendance.roll_totals(db.select(Session.id))
        completed = attendance.completed_counts(db.select(Seminar.id))
        for seminar in seminars:
            assert completed.get(seminar.id, 0) == len(attendance.completed_registrations(seminar)), seminar.title
            for session in seminar.scheduled_sessions:
                roll = attendance.session_roll(session)
                counted = totals.get(session.id, attendance.RollTotals())
                assert (counted.listed, counted.present, counted.absent, counted.excused) == (
                    len(roll.rows), roll.present, roll.absent, roll.excused), seminar.title


def test_completion_follows_the_configured_share(app, client, seeded):
    """Half the sessions: in S1 Ahmet and Sara complete too, in S2 Rana: 6 of 8."""
    app.config["BOOKING_COMPLETION_SHARE"] = 0.5
    log_in(client, COORDINATOR)
    shown = figures(client.get(f"/admin/report?{PERIOD}").get_data(as_text=True))
    assert shown["Completion rate"] == "75% (6 completed of 8 participants of the seminars that are over)"


def test_a_period_without_seminars_says_so(client, seeded):
    log_in(client, COORDINATOR)
    page = client.get("/admin/report?from=2024-01-01&to=2024-12-31").get_data(as_text=True)
    assert "No seminar was held in this period." in page
    assert 'id="report-summary"' not in page
    response = client.get("/admin/report.xlsx?from=2024-01-01&to=2024-12-31")
    from openpyxl import load_workbook

    summary = {row[0]: row[1] for row in load_workbook(io.BytesIO(response.data))["Summary"].iter_rows(
        min_row=2, values_only=True)}
    assert summary["Seminars held"] == 0 and summary["Attendance rate"] is None
