"""The registrations list as CSV for German Excel and as XLSX, from the workspace and the CLI:
read back with the csv module and openpyxl, cell by cell and type by type."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import openpyxl
import pytest

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.extensions import db

from tests.factories import make_applicant, make_association, make_registration, make_seminar
from tests.test_admin_access import PASSWORD, log_in

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HEADER = ["Status", "Waiting list position", "Waiting list reason", "First name", "Last name", "Association",
          "Email", "Phone", "Preferred language", "Needs", "Registered at", "Registered by", "Contact's email",
          "Cancelled at", "Sessions attended", "Sessions scheduled", "Completed"]


@pytest.fixture
def listed(app):
    with app.app_context():
        create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                    password=PASSWORD)
        seminar = make_seminar(slug="vereinsrecht", capacity=2)
        at = datetime(2026, 11, 29, 17, 0, tzinfo=timezone.utc)  # 18:00 in Berlin
        verein = make_association("Türk-Alman Kültür Derneği")
        first = make_registration(seminar, verein, first_name="Jürgen", last_name="Größe", email="jg@example.net",
                                  phone="+49 69 1", needs="Kinderbetreuung\nDolmetschen", preferred_language="de")
        second = make_registration(seminar, make_association("=HYPERLINK(\"http://x\")"),
                                   first_name="محمد", last_name="العلي", email="m@example.net",
                                   preferred_language="ar", needs="-1+1")
        members = associations.register_group(
            seminar, ContactDetails(first_name="Şule", last_name="Çağlar", email="vorstand@verein.example",
                                    preferred_language="tr"),
            [make_applicant(first_name="İsmail", last_name="Ağaoğlu", email=None, preferred_language="tr")], verein)
        for registration in (first, second, *members):
            registration.created_at = at
        db.session.commit()
        return {"id": seminar.id}


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, or Excel garbles umlauts"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def check_rows(rows):
    assert rows[0] == HEADER
    by_first = {row[3]: row for row in rows[1:]}
    jurgen = by_first["Jürgen"]
    assert jurgen[:3] == ["Confirmed", "", ""]
    assert jurgen[4:10] == ["Größe", "Türk-Alman Kültür Derneği", "jg@example.net", "'+49 69 1", "German",
                            "Kinderbetreuung / Dolmetschen"]
    assert jurgen[10] == "29.11.2026 18:00" and jurgen[11] == "Self"
    arabic = by_first["محمد"]
    assert arabic[4] == "العلي" and arabic[5] == "'=HYPERLINK(\"http://x\")" and arabic[8] == "Arabic"
    assert arabic[9] == "'-1+1"
    ismail = by_first["İsmail"]
    assert ismail[:3] == ["Waiting list", "1", "All places taken"]
    assert ismail[4] == "Ağaoğlu" and ismail[6] == "" and ismail[11:13] == ["Şule Çağlar", "vorstand@verein.example"]
    for row in rows:
        for cell in row:
            assert not cell.startswith(TRIGGERS), cell


def test_the_csv_download_opens_in_german_excel(app, client, listed):
    log_in(client, "koordination@stadt.example")
    response = client.get(f"/admin/seminars/{listed['id']}/registrations.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    check_rows(read_csv(response.data))


def test_the_download_holds_what_the_filtered_page_shows(app, client, listed):
    log_in(client, "koordination@stadt.example")
    rows = read_csv(client.get(f"/admin/seminars/{listed['id']}/registrations.csv?status=waitlisted").data)
    assert [row[3] for row in rows[1:]] == ["İsmail"]


def test_the_xlsx_download_has_real_dates_and_numbers(app, client, listed):
    log_in(client, "koordination@stadt.example")
    response = client.get(f"/admin/seminars/{listed['id']}/registrations.xlsx")
    assert response.status_code == 200 and response.data.startswith(b"PK")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    by_first = {row[3]: row for row in rows[1:]}
    assert by_first["Jürgen"][10] == datetime(2026, 11, 29, 18, 0)
    assert sheet.cell(row=2, column=11).number_format == "DD.MM.YYYY HH:MM"
    assert sheet.cell(row=2, column=11).is_date
    assert by_first["İsmail"][1] == 1 and isinstance(by_first["İsmail"][1], int)
    assert by_first["محمد"][5] == "'=HYPERLINK(\"http://x\")"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value  # no formula anywhere
            if isinstance(cell.value, str):
                assert not cell.value.startswith(TRIGGERS), cell.value


def test_the_cli_writes_the_same_csv(app, listed):
    result = app.test_cli_runner().invoke(args=["booking", "registrations", "vereinsrecht", "--csv"])
    assert result.exit_code == 0, result.output
    check_rows(read_csv(result.stdout_bytes))


def test_the_cli_writes_the_csv_in_a_chosen_language(app, listed):
    result = app.test_cli_runner().invoke(args=["booking", "registrations", "vereinsrecht", "--csv",
                                                "--language", "de"])
    assert result.exit_code == 0, result.output
    rows = read_csv(result.stdout_bytes)
    assert rows[0][:3] == ["Status", "Platz auf der Warteliste", "Grund für die Warteliste"]
    assert {row[3]: row for row in rows[1:]}["Jürgen"][0] == "Bestätigt"
    refused = app.test_cli_runner().invoke(args=["booking", "registrations", "vereinsrecht", "--csv",
                                                 "--language", "xx"])
    assert refused.exit_code == 1 and "no language 'xx'" in refused.output


def test_an_anonymous_visitor_gets_no_download(client, listed):
    response = client.get(f"/admin/seminars/{listed['id']}/registrations.csv")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")


def test_the_exports_carry_attendance_counted_in_a_fixed_number_of_queries(app, client):
    """Sessions attended of scheduled, and completed yes/no (booking.attendance's rule), from a
    number of queries that does not grow with the rows."""
    from datetime import timedelta

    from sqlalchemy import event

    from booking.attendance import services as attendance
    from booking.registrations import services as registrations
    from booking.registrations.exports import rows
    from booking.registrations.listing import seminar_registrations

    from tests.factories import now

    with app.app_context():
        first = now().replace(microsecond=0) - timedelta(days=30)
        seminar = make_seminar(sessions=[(first + timedelta(days=7 * i), first + timedelta(days=7 * i, hours=2))
                                         for i in range(3)], capacity=20)
        before = first - timedelta(days=1)
        people = [registrations.register(seminar, make_applicant(first_name=name), None, now=before)
                  for name in ("Ayla", "Baran", "Cemile")]
        for session, pattern in zip(seminar.sessions, ("PPA", "PAE", "PPA")):
            for registration, letter in zip(people, pattern):
                status = {"P": "present", "A": "absent", "E": "excused"}[letter]
                attendance.record(session, registration, status, now=session.starts_at)
        db.session.commit()

        def count_queries(listing):
            statements = []
            listener = lambda *args: statements.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                result = rows(listing)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            return result, len(statements)

        db.session.expire_all()
        table, few = count_queries(seminar_registrations(seminar))
        by_first = {row[3]: row[-3:] for row in table}
        assert by_first == {"Ayla": [3, 3, "Yes"], "Baran": [2, 3, "No"], "Cemile": [0, 3, "No"]}
        for extra in range(10):
            registrations.register(seminar, make_applicant(first_name=f"Extra {extra}"), None, now=before)
        db.session.commit()
        db.session.expire_all()
        _, more = count_queries(seminar_registrations(seminar))
        assert more == few

        create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                    password=PASSWORD)
        db.session.commit()
        seminar_id = seminar.id
    log_in(client, "koordination@stadt.example")
    csv_rows = read_csv(client.get(f"/admin/seminars/{seminar_id}/registrations.csv").data)
    assert {row[3]: row[-3:] for row in csv_rows[1:]}["Ayla"] == ["3", "3", "Yes"]
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/admin/seminars/{seminar_id}/registrations.xlsx").data)).active
    assert {row[3]: row[-3:] for row in sheet.iter_rows(values_only=True)}["Baran"] == (2, 3, "No")
