"""Sign-in sheets: a session's confirmed participants, as a print-friendly page and as PDF, for the
seminar's trainer and coordinators."""
from __future__ import annotations

from datetime import timedelta

import pytest

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking import documents
from booking.documents import rendering
from booking.extensions import db
from booking.registrations import services as registrations
from booking.registrations.models import RegistrationStatus

from tests.factories import make_association, make_registration, make_seminar, utc
from tests.pdf_text import glyph_lines, nfkc, page_count, read_right_to_left, text_lines
from tests.test_admin_access import PASSWORD, log_in

FORMULA = '=HYPERLINK("evil.example";"Klick")'
FIRST = utc(2027, 3, 2, 17, 0)  # Tuesday, 18:00 in Berlin


@pytest.fixture
def staff(app):
    with app.app_context():
        coordinator = create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                                  password=PASSWORD)
        trainer = create_user("trainerin@stadt.example", role=Role.TRAINER, display_name="Trainerin",
                              password=PASSWORD)
        other = create_user("andere@stadt.example", role=Role.TRAINER, display_name="Andere Trainerin",
                            password=PASSWORD)
        db.session.commit()
        return {"coordinator": coordinator.email, "trainer": trainer.email, "other_trainer": other.email,
                "trainer_id": trainer.id}


@pytest.fixture
def seminar(app, staff):
    """Three with a place (one with a formula for a first name), one cancelled, one waiting; and
    someone in another seminar."""
    with app.app_context():
        sessions = [(FIRST + timedelta(days=7 * i), FIRST + timedelta(days=7 * i, hours=2, minutes=30))
                    for i in range(3)]
        seminar = make_seminar(sessions, title="Vereinsrecht kompakt", capacity=4, venue_name="Haus der Vereine",
                               venue_address="Bieberer Straße 1, Offenbach", trainer="Ayşe Demir",
                               trainer_user_id=staff["trainer_id"])
        verein = make_association("Kulturverein Offenbach")
        make_registration(seminar, None, first_name="Şule Çağlar", last_name="İnce")
        make_registration(seminar, verein, first_name="Zeynep", last_name="Acar")
        make_registration(seminar, None, first_name=FORMULA, last_name="Formel")
        gone = make_registration(seminar, verein, first_name="Stefan", last_name="Storniert")
        registrations.cancel_registration(gone, now=FIRST - timedelta(days=3))
        seminar.capacity = 3
        waiting = make_registration(seminar, None, first_name="Wanda", last_name="Wartend")
        assert waiting.status == RegistrationStatus.WAITLISTED
        other = make_seminar(title="Öffentlichkeitsarbeit")
        make_registration(other, None, first_name="Otto", last_name="Anders")
        db.session.commit()
        return {"id": seminar.id, "sessions": [s.id for s in seminar.sessions], "other": other.id,
                "other_session": other.sessions[0].id}


def sheet_url(seminar, index=0, pdf=False):
    suffix = ".pdf" if pdf else ""
    return f"/admin/seminars/{seminar['id']}/sessions/{seminar['sessions'][index]}/sign-in-sheet{suffix}"


def table_rows(lines: list[str]) -> list[str]:
    """The lines between the table's head and the count below it."""
    start = lines.index("No. Name Association Signature")
    end = next(i for i, line in enumerate(lines) if line.endswith("participants with a place"))
    return lines[start + 1:end]


def test_the_pdf_lists_exactly_the_confirmed_participants_by_last_name(client, staff, seminar):
    log_in(client, staff["trainer"])
    response = client.get(sheet_url(seminar, 1, pdf=True))

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    pdf = response.data
    lines = text_lines(pdf)
    assert page_count(pdf) == 1
    # the formula is printed as the text it is
    assert table_rows(lines) == [
        "1 Acar, Zeynep Kulturverein Offenbach",
        f"2 Formel, {FORMULA}",
        "3 İnce, Şule Çağlar",
    ]
    assert "3 participants with a place" in lines
    for absent in ("Storniert", "Wartend", "Anders"):
        assert not [line for line in lines if absent in line]
    # the session, its date, time and place, and the seminar
    assert lines[:3] == ["Integration Office", "Sign-in sheet", "Vereinsrecht kompakt"]
    assert "Session 2 of 3" in lines
    assert "When Tue, Mar 9, 2027, 18:00 – 20:30" in lines
    assert "Place Haus der Vereine, Bieberer Straße 1, Offenbach" in lines
    assert "Trainer Ayşe Demir" in lines


def test_the_funder_line_is_printed_when_set(app, client, staff, seminar):
    log_in(client, staff["coordinator"])
    assert not [line for line in text_lines(client.get(sheet_url(seminar, pdf=True)).data) if "Gefördert" in line]

    app.config["BOOKING_FUNDER_LINE"] = "Gefördert durch das Land Hessen"
    lines = text_lines(client.get(sheet_url(seminar, pdf=True)).data)
    assert "Gefördert durch das Land Hessen" in lines
    assert "Gefördert durch das Land Hessen" in client.get(sheet_url(seminar)).get_data(as_text=True)


def test_the_pdf_speaks_the_language_of_the_page(client, staff, seminar):
    log_in(client, staff["coordinator"])
    client.get(f"/admin/seminars/{seminar['id']}?lang=de")  # the visit's language is now German
    lines = text_lines(client.get(sheet_url(seminar, pdf=True)).data)

    assert [line for line in lines if line.endswith("Di., 2. März 2027, 18:00–20:30 Uhr")]
    assert "Di., 2. März 2027" not in " ".join(text_lines(client.get(sheet_url(seminar, pdf=True) + "?lang=en").data))


def test_the_page_shows_the_same_sheet_to_print(client, staff, seminar):
    log_in(client, staff["trainer"])
    page = client.get(sheet_url(seminar)).get_data(as_text=True)

    assert "Sign-in sheet" in page
    assert sheet_url(seminar, pdf=True) in page
    assert 'href="/static/css/documents.css"' in page
    names = ["<bdi>Acar, Zeynep</bdi>", "<bdi>Formel, =HYPERLINK(&#34;evil.example&#34;;&#34;Klick&#34;)</bdi>",
             "<bdi>İnce, Şule Çağlar</bdi>"]
    positions = [page.index(name) for name in names]
    assert positions == sorted(positions)
    for absent in ("Storniert", "Wartend", "Anders"):
        assert absent not in page
    assert "Tue, Mar 2, 2027, 18:00 – 20:30" in nfkc(page)  # Babel puts thin spaces around the dash


def test_the_seminar_page_links_each_sessions_sheet(client, staff, seminar):
    log_in(client, staff["trainer"])
    page = client.get(f"/admin/seminars/{seminar['id']}").get_data(as_text=True)

    assert "Sign-in sheets" in page
    for index in range(3):
        assert f'href="{sheet_url(seminar, index)}"' in page
        assert f'href="{sheet_url(seminar, index, pdf=True)}"' in page


@pytest.mark.parametrize("pdf", [False, True])
def test_only_the_seminars_trainer_and_coordinators_get_the_sheet(app, client, staff, seminar, pdf):
    url = sheet_url(seminar, pdf=pdf)
    assert client.get(url).headers["Location"].startswith("/admin/login")

    expected = {"other_trainer": 403, "trainer": 200, "coordinator": 200}
    for who, status in expected.items():
        browser = app.test_client()
        log_in(browser, staff[who])
        response = browser.get(url)
        assert response.status_code == status, who
        shown = "\n".join(text_lines(response.data)) if response.mimetype == "application/pdf" \
            else response.get_data(as_text=True)
        assert ("Acar" in shown) == (status == 200)


@pytest.mark.parametrize("pdf", [False, True])
def test_unknown_sessions_and_another_seminars_session_are_not_found(client, staff, seminar, pdf):
    log_in(client, staff["coordinator"])
    suffix = ".pdf" if pdf else ""
    assert client.get(f"/admin/seminars/{seminar['id']}/sessions/999999/sign-in-sheet{suffix}").status_code == 404
    assert client.get(f"/admin/seminars/{seminar['id']}/sessions/abc/sign-in-sheet{suffix}").status_code == 404
    assert client.get(f"/admin/seminars/999999/sessions/{seminar['sessions'][0]}/sign-in-sheet{suffix}").status_code == 404
    assert client.get(f"/admin/seminars/{seminar['id']}/sessions/{seminar['other_session']}/sign-in-sheet{suffix}"
                      ).status_code == 404


def test_the_fonts_documents_need_are_installed_and_named_in_the_stylesheet(app):
    assert rendering.missing_fonts() == []
    with app.app_context():
        stylesheet = rendering.stylesheet_path().read_text()
    families = ", ".join(f'"{family}"' for family in rendering.FONT_FAMILIES)
    assert f"font-family: {families}, sans-serif;" in stylesheet


def test_documents_fetch_nothing_from_elsewhere(app):
    with app.app_context():
        with pytest.raises(rendering.DocumentFetchRefused):
            rendering.refuse_fetching("file:///etc/passwd")
        pdf = rendering.html_to_pdf('<p>Hallo</p><img src="file:///etc/hostname"><img src="http://127.0.0.1:9/x.png">')
    assert text_lines(pdf) == ["Hallo"]


def test_an_arabic_name_on_the_sheet_reads_last_name_first_from_the_right(app):
    with app.test_request_context("/?lang=en"):
        seminar = make_seminar(1, title="Vereinsrecht kompakt")
        make_registration(seminar, None, first_name="ليلى", last_name="العلي")
        make_registration(seminar, None, first_name="Ahmet", last_name="Öztürk")
        db.session.commit()
        pdf = documents.sign_in_sheet_pdf(documents.sign_in_sheet(seminar.sessions[0]), language="en")

    rows = [line for line in glyph_lines(pdf) if any("Arabic" in glyph.font for glyph in line)]
    assert len(rows) == 1
    # the row holds its number (2: Arabic letters sort after Latin ones) and the name, which read
    # from the right is the last name, a comma and the first name
    assert [glyph.text for glyph in rows[0] if glyph.text.isdigit()] == ["2"]
    name = [glyph for glyph in rows[0] if not glyph.text.isdigit()]
    assert read_right_to_left(name) == "العلي, ليلى"
    assert "1 Öztürk, Ahmet" in text_lines(pdf)
