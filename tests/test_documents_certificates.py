"""Certificates of attendance: one A4 page in the participant's language, names in any script
shaped and ordered correctly, read back from the PDF."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from booking.documents import certificate_pdf
from booking.extensions import db

from tests.factories import make_association, make_registration, make_seminar, make_topic, utc
from tests.pdf_text import glyph_lines, nfkc, page_count, read_left_to_right, read_right_to_left, text_lines

ARABIC_NAME = ("ليلى", "العلي")
TURKISH_NAME = ("Şule Çağlar", "İnce")
FIRST = utc(2027, 3, 2, 17, 0)  # Tuesday, 18:00 in Berlin


def weekly(count: int, hours: float = 2.5):
    return [(FIRST + timedelta(days=7 * i), FIRST + timedelta(days=7 * i, hours=hours)) for i in range(count)]


@pytest.fixture
def certificate(app):
    """certificate(first, last, language, sessions=3, attended=all) -> PDF bytes, made in a request
    whose page is English (the certificate must not follow it)."""
    def make(first_name, last_name, language, *, sessions=3, attended=None):
        with app.test_request_context("/?lang=en"):
            seminar = make_seminar(weekly(sessions), title="Vereinsrecht kompakt",
                                   topic=make_topic(name="Vereinsführung"))
            registration = make_registration(seminar, make_association("Kulturverein Offenbach"),
                                             first_name=first_name, last_name=last_name,
                                             preferred_language=language)
            db.session.commit()
            chosen = seminar.sessions if attended is None else attended(seminar.sessions)
            return certificate_pdf(registration, chosen, language=language, issued_on=date(2027, 3, 20))
    return make


def lines_with_font(pdf: bytes, font_part: str):
    return [[glyph for glyph in line if font_part in glyph.font] for line in glyph_lines(pdf)]


def test_an_arabic_name_renders_shaped_and_right_to_left_on_one_page(certificate):
    pdf = certificate(*ARABIC_NAME, "ar")
    name = " ".join(ARABIC_NAME)

    assert page_count(pdf) == 1
    # pypdf reads the line back in logical order: exactly the name as typed
    assert name in text_lines(pdf)
    # pdfminer gives the glyphs as they stand on the page: read from right to left, one line holds
    # exactly the name, so the layout applied the bidirectional algorithm (left to right it would be
    # the name backwards)
    name_lines = [line for line in lines_with_font(pdf, "Arabic") if read_right_to_left(line) == name]
    assert len(name_lines) == 1
    glyphs = name_lines[0]
    assert read_left_to_right(glyphs) != name
    # every glyph comes from the Arabic font, none is a missing-glyph box without its text
    assert all("Noto-Sans-Arabic" in glyph.font for glyph in glyphs)
    assert not any(glyph.text.startswith("(cid:") for line in glyph_lines(pdf) for glyph in line)
    # the letters were shaped (HarfBuzz): lam and alef maksura of "ليلى" join into one ligature glyph,
    # so the line has fewer glyphs than the name has letters
    assert any(nfkc(glyph.text) == "لى" for glyph in glyphs)
    assert len(glyphs) < len(name)


def test_a_turkish_name_keeps_every_letter(certificate):
    pdf = certificate(*TURKISH_NAME, "tr")
    name = " ".join(TURKISH_NAME)

    assert page_count(pdf) == 1
    assert name in text_lines(pdf)
    name_lines = [line for line in glyph_lines(pdf) if read_left_to_right(line) == name]
    assert len(name_lines) == 1
    # drawn in Noto Sans itself, not in a fallback font
    assert {glyph.font.split("+")[-1] for glyph in name_lines[0]} == {"Noto-Sans-Bold"}
    # the certificate speaks Turkish: the dates are Turkish ("Mar" is Mart)
    assert any("Mar 2027" in line for line in text_lines(pdf))


def test_an_arabic_name_reads_right_inside_a_german_certificate(certificate):
    pdf = certificate(*ARABIC_NAME, "de")
    name = " ".join(ARABIC_NAME)
    lines = text_lines(pdf)

    assert page_count(pdf) == 1
    assert name in lines
    assert [line for line in lines_with_font(pdf, "Arabic") if read_right_to_left(line) == name]
    # the rest speaks German: the dates in German words
    assert "Di., 2. März 2027, 18:00–20:30 Uhr" in lines


def test_the_certificate_names_seminar_topic_dates_sessions_office_and_signature(app, certificate):
    app.config["BOOKING_OFFICE_NAME"] = "Integrationsbüro der Stadt Offenbach"
    app.config["BOOKING_CERTIFICATE_SIGNATURE"] = "Dr. Jana Beispiel, Leiterin"
    pdf = certificate("Leyla", "Yılmaz", "en", attended=lambda sessions: [sessions[2], sessions[0]])

    assert page_count(pdf) == 1
    # the sessions attended in date order, the one missed (Mar 9) not among them
    assert text_lines(pdf) == [
        "Integrationsbüro der Stadt Offenbach",
        "Certificate of attendance",
        "Leyla Yılmaz",
        "took part in the seminar",
        "Vereinsrecht kompakt",
        "Topic: Vereinsführung",
        "Dates: Tue, Mar 2, 2027 to Tue, Mar 16, 2027",
        "Association: Kulturverein Offenbach",
        "Sessions attended: 2 of 3",
        "Tue, Mar 2, 2027, 18:00 – 20:30",
        "Tue, Mar 16, 2027, 18:00 – 20:30",
        "Sat, Mar 20, 2027",
        "Dr. Jana Beispiel, Leiterin",
        "Integrationsbüro der Stadt Offenbach",
        "1.", "2.",  # the list's numbers, which pypdf reads last
    ]


def test_a_language_without_a_catalogue_gets_the_default_language(certificate):
    pdf = certificate("Olena", "Kovalenko", "uk")

    assert page_count(pdf) == 1
    assert "Di., 2. März 2027, 18:00–20:30 Uhr" in text_lines(pdf)


def test_many_sessions_still_fit_on_one_page(certificate):
    pdf = certificate("Ahmet", "Öztürk", "en", sessions=24)
    lines = text_lines(pdf)

    assert page_count(pdf) == 1
    assert "Sessions attended: 24 of 24" in lines


def test_certificates_are_made_outside_a_request_too(app):
    """A job (a ZIP of all certificates, say) has an application context but no request."""
    with app.app_context():
        seminar = make_seminar(weekly(2), title="Öffentlichkeitsarbeit")
        registration = make_registration(seminar, None, first_name="Şule Çağlar", last_name="İnce",
                                         preferred_language="tr")
        db.session.commit()
        pdf = certificate_pdf(registration, seminar.sessions, language="tr", issued_on=date(2027, 3, 20))

    lines = text_lines(pdf)
    assert page_count(pdf) == 1
    assert "Şule Çağlar İnce" in lines
    assert "20 Mar 2027 Cmt" in lines  # the date of issue, in Turkish
