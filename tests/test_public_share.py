"""Sharing a seminar: share links for WhatsApp, Telegram and email in the page's language, the short
link /s/<slug>, and the A4 poster with its QR code, in one language or two side by side."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import pytest
import zxingcpp
from flask_babel import force_locale, gettext, ngettext

from booking.extensions import db
from booking.formatting import session_when
from booking.seminars.models import Seminar, SeminarStatus, SessionStatus

from tests.browser import browser, live_server, page  # noqa: F401  (fixtures are used by name)
from tests.factories import make_seminar, now, utc

BASE_URL = "https://seminare.example.org/integration"
# The short month of a date in October in each language (Babel's CLDR data): the dates are formatted per locale.
OCTOBER = {"de": "Okt.", "en": "Oct", "tr": "Eki", "ar": "أكتوبر"}


def october_sessions(count: int = 2):
    """Weekly sessions from 5 October next year, 16:00–18:30 UTC (18:00 in Berlin while summer time lasts)."""
    year = now().year + 1
    first = utc(year, 10, 5, 16, 0)
    return [(first + timedelta(days=7 * i), first + timedelta(days=7 * i, hours=2, minutes=30)) for i in range(count)]


@pytest.fixture
def seminar(app):
    """A published seminar whose title needs encoding (an ampersand, umlauts), on BASE_URL."""
    app.config["BOOKING_BASE_URL"] = BASE_URL
    with app.app_context():
        seminar = make_seminar(title="Vereinsrecht & Satzung für Vorstände", slug="vereinsrecht",
                               languages="de tr", sessions=october_sessions(3))
        db.session.commit()
        return seminar.slug


def get_page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def share_hrefs(body: str) -> dict[str, str]:
    """The share links' addresses, as a browser reads them from the page."""
    hrefs = {}
    for name, pattern in (("whatsapp", r"https://wa\.me/\?[^\"]+"), ("telegram", r"https://t\.me/share/url\?[^\"]+"),
                          ("email", r"mailto:\?[^\"]+")):
        found = re.findall(f'href="({pattern})"', body)
        assert len(found) == 1, name
        hrefs[name] = html.unescape(found[0])
    return hrefs


def query_values(href: str) -> dict[str, str]:
    """The decoded query values of a share link, read strictly by RFC 3986 ('+' stays '+')."""
    return {key: unquote(value) for key, value in
            (part.split("=", 1) for part in urlsplit(href).query.split("&"))}


def expected_message(app, slug: str, language: str) -> list[str]:
    """The message's lines as the app's catalogue of `language` gives them."""
    with app.test_request_context(), force_locale(language):
        seminar = db.session.scalar(db.select(Seminar).where(Seminar.slug == slug))
        link = f"{BASE_URL}/s/{slug}?lang={language}"
        return [gettext("Seminar: %(title)s", title=seminar.title),
                gettext("First session: %(when)s", when=session_when(seminar.sessions[0])),
                gettext("Information and registration: %(link)s", link=link)]


# --- share links ---------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["de", "tr", "ar", "en"])
def test_share_links_carry_title_first_date_and_short_link_in_the_pages_language(app, client, seminar, language):
    body = get_page(client, f"/seminars/{seminar}?lang={language}")
    hrefs = share_hrefs(body)
    lines = expected_message(app, seminar, language)

    whatsapp = query_values(hrefs["whatsapp"])["text"]
    assert whatsapp == "\n".join(lines)
    assert "Vereinsrecht & Satzung für Vorstände" in whatsapp
    assert OCTOBER[language] in whatsapp  # the first date, formatted in the page's language
    assert whatsapp.endswith(f"{BASE_URL}/s/{seminar}?lang={language}")

    telegram = query_values(hrefs["telegram"])
    assert telegram["url"] == f"{BASE_URL}/s/{seminar}?lang={language}"
    assert telegram["text"] == "\n".join(lines[:2])  # Telegram shows the link itself

    email = query_values(hrefs["email"])
    assert email["subject"] == lines[0]
    assert email["body"] == "\r\n".join(lines)  # RFC 6068: CRLF between lines


def test_share_links_are_percent_encoded_utf8(client, seminar):
    hrefs = share_hrefs(get_page(client, f"/seminars/{seminar}?lang=de"))
    for name, href in hrefs.items():
        assert href.isascii() and " " not in href and "\n" not in href, name
        query = urlsplit(href).query
        assert "+" not in query, name  # spaces are %20: a mail program shows '+' as it is
        assert "%C3%BC" in query, name  # ü as UTF-8
        assert "%20%26%20" in query, name  # " & " of the title does not end the value
    assert "%0A" in hrefs["whatsapp"] and "%0D%0A" in hrefs["email"]


def test_the_seminar_page_loads_nothing_from_elsewhere(client, seminar):
    body = get_page(client, f"/seminars/{seminar}?lang=de")
    assert "wa.me" in body and "t.me" in body
    assert "<script" not in body and "<iframe" not in body
    for attribute in re.findall(r'\b(?:src|srcset)="([^"]*)"', body):
        assert attribute.startswith("/") and not attribute.startswith("//"), attribute
    for link in re.findall(r"<link\b[^>]*>", body):
        assert re.search(r'href="/(?!/)', link), link
    assert " style=" not in body


def test_no_share_links_while_nobody_can_register(app, client):
    with app.app_context():
        over = make_seminar(sessions=[(now() - timedelta(days=8), now() - timedelta(days=8, hours=-2))]).slug
        cancelled = make_seminar(status=SeminarStatus.CANCELLED).slug
        db.session.commit()
    for slug in (over, cancelled):
        body = get_page(client, f"/seminars/{slug}?lang=en")
        assert "wa.me" not in body and "t.me/share" not in body and "mailto:" not in body
        assert "Tell others about this seminar" not in body


def test_the_message_names_the_next_session_once_the_seminar_has_begun(app, client):
    with app.app_context():
        slug = make_seminar(sessions=[(now() - timedelta(days=7), now() - timedelta(days=7, hours=-2)),
                                      (now() + timedelta(days=7), now() + timedelta(days=7, hours=2))]).slug
        db.session.commit()
    text = query_values(share_hrefs(get_page(client, f"/seminars/{slug}?lang=en"))["whatsapp"])["text"]
    assert "\nNext session: " in text and "First session" not in text


def test_the_seminar_page_links_its_poster(client, seminar):
    body = get_page(client, f"/seminars/{seminar}?lang=en")
    assert f'href="/seminars/{seminar}/poster">Poster to print (A4)</a>' in body
    assert f'dir="ltr">{BASE_URL}/s/{seminar}</a>' in body


# --- the short link ------------------------------------------------------------------------------

def test_the_short_link_leads_to_the_seminar_page(client, seminar):
    response = client.get(f"/s/{seminar}")
    assert response.status_code == 302  # temporary: a printed code's target stays ours to change
    assert response.headers["Location"] == f"/seminars/{seminar}"
    assert client.get(response.headers["Location"]).status_code == 200

    in_turkish = client.get(f"/s/{seminar}?lang=tr")
    assert in_turkish.headers["Location"] == f"/seminars/{seminar}?lang=tr"
    assert client.get(f"/s/{seminar}?lang=xx").headers["Location"] == f"/seminars/{seminar}"


def test_the_short_link_follows_the_seminar_pages_visibility(app, client):
    with app.app_context():
        slugs = {status: make_seminar(status=status).slug for status in SeminarStatus}
        db.session.commit()
    for status, slug in slugs.items():
        page_status = client.get(f"/seminars/{slug}").status_code
        short_status = client.get(f"/s/{slug}").status_code
        assert (page_status, short_status) == ((404, 404) if status == SeminarStatus.DRAFT else (200, 302)), status
    assert client.get("/s/no-such-seminar").status_code == 404


# --- the poster ----------------------------------------------------------------------------------

def qr_matrix(svg: str) -> list[list[bool]]:
    """The dark modules of segno's SVG: one path of horizontal strokes (M/m moves, h draws), y at the module's middle."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    modules = [[False] * size for _ in range(size)]
    path = re.search(r'<path stroke="#000" d="([^"]+)"', svg).group(1)
    x = y = 0.0
    for command, numbers in re.findall(r"([Mmh])([-\d.\s]+)", path):
        values = [float(n) for n in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            for column in range(int(x), int(x + values[0])):
                modules[int(y)][column] = True
            x += values[0]
    return modules


def decode_qr(svg: str) -> str:
    """Draw the code as a greyscale image (8 pixels a module) and let a QR reader (zxing-cpp) read it."""
    modules = qr_matrix(svg)
    scale = 8
    width = len(modules) * scale
    pixels = bytearray()
    for row in modules:
        line = b"".join((b"\x00" if dark else b"\xff") * scale for dark in row)
        pixels += line * scale
    image = memoryview(bytes(pixels)).cast("B", (width, width))
    result = zxingcpp.read_barcode(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert result is not None, "no QR code found"
    return result.text


def poster_svg(body: str) -> str:
    found = re.findall(r"<svg\b.*?</svg>", body, re.S)
    assert len(found) == 1
    return found[0]


def test_the_poster_shows_every_session_place_languages_and_a_qr_code_of_the_short_link(app, client, seminar):
    with app.app_context():
        db.session.scalar(db.select(Seminar).where(Seminar.slug == seminar)).sessions[2].status = SessionStatus.CANCELLED
        db.session.commit()
    body = get_page(client, f"/seminars/{seminar}/poster?lang=en")
    with app.test_request_context(), force_locale("en"):
        sessions = db.session.scalar(db.select(Seminar).where(Seminar.slug == seminar)).sessions
        scheduled = [session_when(s) for s in sessions[:2]]
        cancelled = session_when(sessions[2])
    text = html.unescape(body)
    assert "Vereinsrecht &amp; Satzung für Vorstände</h1>" in body
    for when in scheduled:
        assert when in text
    assert cancelled not in text
    assert "Haus der Vereine" in text and "Bieberer Straße 1, 63065 Offenbach am Main" in text
    assert "<dt>Languages</dt>" in body and "<dd>German and Turkish</dd>" in body
    assert f"seminare.example.org/integration/s/{seminar}</a>" in body

    svg = poster_svg(body)
    assert decode_qr(svg) == f"{BASE_URL}/s/{seminar}"
    assert "style" not in svg  # presentation attributes only: the strict CSP allows the inline <svg>
    assert " style=" not in body and "<script" not in body


def test_a_poster_in_two_languages_shows_both_side_by_side_arabic_right_to_left(app, client, seminar):
    body = get_page(client, f"/seminars/{seminar}/poster?language=de&second_language=ar&lang=en")
    columns = re.findall(r'<section class="poster-column" lang="(\w+)" dir="(\w+)">(.*?)</section>', body, re.S)
    assert [(code, direction) for code, direction, _ in columns] == [("de", "ltr"), ("ar", "rtl")]
    with app.test_request_context():
        session = db.session.scalar(db.select(Seminar).where(Seminar.slug == seminar)).sessions[0]
        for code, _, column in columns:
            with force_locale(code):
                assert session_when(session) in html.unescape(column)
                assert ngettext("Session", "Sessions", 3) in column
                assert gettext("Information and registration: scan the code or type in the link.") in column
    assert OCTOBER["de"] in columns[0][2] and OCTOBER["ar"] not in columns[0][2]
    assert OCTOBER["ar"] in columns[1][2] and OCTOBER["de"] not in columns[1][2]
    assert 'class="poster poster-bilingual' in body


def test_a_poster_in_one_language_follows_the_choice_or_the_page(client, seminar):
    turkish = get_page(client, f"/seminars/{seminar}/poster?language=tr&lang=en")
    assert re.findall(r'class="poster-column" lang="(\w+)"', turkish) == ["tr"]
    assert OCTOBER["tr"] in turkish
    assert re.findall(r'class="poster-column" lang="(\w+)"', get_page(client, f"/seminars/{seminar}/poster?lang=de")) == ["de"]


@pytest.mark.parametrize("query, message", [
    ("language=xx", "There is no poster in this language. Please choose one from the list."),
    ("language=de&second_language=klingon", "There is no poster in this language. Please choose one from the list."),
    ("language=de&second_language=de", "Please choose a second language that differs from the first, or none."),
])
def test_a_poster_language_that_cannot_be_is_told_beside_the_field(client, seminar, query, message):
    response = client.get(f"/seminars/{seminar}/poster?{query}&lang=en")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert '<p class="field-error"' in body and message in body
    assert re.findall(r'class="poster-column" lang="(\w+)"', body) == ["en"]  # the page's language meanwhile


def test_the_poster_of_a_seminar_the_public_cannot_see_is_not_found(app, client):
    with app.app_context():
        draft = make_seminar(status=SeminarStatus.DRAFT).slug
        db.session.commit()
    assert client.get(f"/seminars/{draft}/poster").status_code == 404
    assert client.get("/seminars/no-such-seminar/poster").status_code == 404


def test_the_poster_of_a_cancelled_seminar_says_so_in_each_language(app, client):
    with app.app_context():
        cancelled = make_seminar(status=SeminarStatus.CANCELLED).slug
        db.session.commit()
    body = get_page(client, f"/seminars/{cancelled}/poster?language=de&second_language=tr&lang=en")
    with app.test_request_context():
        for code in ("de", "tr"):
            with force_locale(code):
                message = gettext("This seminar has been cancelled.")
            column = re.search(rf'<section class="poster-column" lang="{code}" dir="ltr">(.*?)</section>', body, re.S)
            assert f'<p class="poster-closed">{html.escape(message, quote=False)}</p>' in column.group(1)


def test_the_workspace_offers_the_poster_in_the_usual_languages(app, client, seminar):
    from booking.accounts.models import Role
    from booking.accounts.services import create_user
    from tests.factories import csrf_token

    with app.app_context():
        create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                    password="ein langes Passwort")
        seminar_id = db.session.scalar(db.select(Seminar.id).where(Seminar.slug == seminar))
        draft_id = make_seminar(status=SeminarStatus.DRAFT).id
        db.session.commit()
    client.post("/admin/login", data={"email": "koordination@stadt.example", "password": "ein langes Passwort",
                                      "csrf_token": csrf_token(client, "/admin/login")})
    body = get_page(client, f"/admin/seminars/{seminar_id}?lang=en")
    links = re.findall(rf'href="(/seminars/{seminar}/poster\?[^"]+)">(.*?)</a>', body)
    assert [(html.unescape(url), re.sub(r"<[^>]+>", "", label)) for url, label in links] == [
        (f"/seminars/{seminar}/poster?language=de", "Deutsch"),
        (f"/seminars/{seminar}/poster?language=de&second_language=tr", "Deutsch + Türkçe"),
        (f"/seminars/{seminar}/poster?language=de&second_language=ar", "Deutsch + العربية"),
        (f"/seminars/{seminar}/poster?language=tr", "Türkçe"),
        (f"/seminars/{seminar}/poster?language=ar", "العربية"),
        (f"/seminars/{seminar}/poster?language=en", "English"),
    ]
    for url, _ in links:
        assert client.get(html.unescape(url)).status_code == 200
    assert "/poster" not in get_page(client, f"/admin/seminars/{draft_id}?lang=en")  # a draft has no poster yet


def test_share_links_and_the_qr_code_ignore_the_requests_host(client, seminar):
    """Links that travel (chats, paper) are built on BOOKING_BASE_URL, never on a Host header someone sent."""
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example"}
    seminar_page = client.get(f"/seminars/{seminar}?lang=de", headers=forged).get_data(as_text=True)
    poster = client.get(f"/seminars/{seminar}/poster?lang=de", headers=forged).get_data(as_text=True)
    assert "evil.example" not in seminar_page and "evil.example" not in poster
    assert decode_qr(poster_svg(poster)) == f"{BASE_URL}/s/{seminar}"
    assert client.get(f"/s/{seminar}", headers=forged).headers["Location"] == f"/seminars/{seminar}"


# --- in a real browser -----------------------------------------------------------------------------

def printed_pages(pdf: bytes) -> int:
    """Pages of a PDF: its /Type /Page objects (not the /Pages tree). Chromium writes no object streams."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_the_poster_prints_on_one_a4_page_without_the_site_around_it(app, live_server, page):
    with app.app_context():
        slug = make_seminar(
            title="Vereinsrecht kompakt: Satzung, Vorstand und Mitgliederversammlung",
            summary="Was ein Vereinsvorstand wissen muss: Satzung, Gemeinnützigkeit, Kasse und die "
                    "Mitgliederversammlung, mit Beispielen aus Offenbacher Vereinen.",
            languages="de tr ar", sessions=october_sessions(6), online_url="https://meet.example.org/verein",
        ).slug
        db.session.commit()
    for query in ("language=de&second_language=ar", "language=tr"):
        page.goto(live_server(f"/seminars/{slug}/poster?{query}"))
        pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
        assert pdf.startswith(b"%PDF")
        assert printed_pages(pdf) == 1, query
        # A4 portrait in points (210 x 297 mm)
        sizes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert sizes and all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in sizes)

        page.emulate_media(media="print")
        for chrome in (".site-header", ".site-footer", ".poster-tools"):
            assert page.locator(chrome).is_hidden(), chrome
        assert page.locator(".poster-qr").is_visible()
        assert page.locator(".poster-column").count() == len(query.split("&"))
        page.emulate_media(media="null")  # back to no emulation: page.pdf() prints with print media again
    assert page.console_log.csp_violations == []
