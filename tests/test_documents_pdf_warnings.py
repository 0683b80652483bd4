"""The PDFs render without a WeasyPrint warning: their stylesheet (documents.css) holds only what
WeasyPrint reads, so its log is not filled with the same warning on every PDF, and a warning there
means something new is wrong. The page around the on-screen preview has its own stylesheet."""
from __future__ import annotations

import logging

import pytest

from tests.test_admin_access import log_in
from tests.test_documents_certificates import certificate  # noqa: F401  (the fixture)
from tests.test_documents_sign_in_sheets import seminar, sheet_url, staff  # noqa: F401  (the fixtures)
from tests.test_reports_counts import COORDINATOR, PERIOD, seeded  # noqa: F401  (the fixture)
from tests.pdf_text import text_lines


@pytest.fixture
def weasyprint_log(caplog):
    caplog.set_level(logging.INFO, logger="weasyprint")
    return caplog


def assert_no_warnings(caplog):
    weasyprint = [record for record in caplog.records if record.name.startswith("weasyprint")]
    assert weasyprint, "WeasyPrint did its work while the test listened (its progress lines are INFO)"
    # anything from WARNING up is a complaint about the document
    assert [record.getMessage() for record in weasyprint if record.levelno >= logging.WARNING] == []


def test_a_sign_in_sheet_renders_without_warnings(client, staff, seminar, weasyprint_log):  # noqa: F811
    log_in(client, staff["trainer"])
    for language in ("ar", "de"):
        response = client.get(sheet_url(seminar, pdf=True) + f"?lang={language}")
        assert response.mimetype == "application/pdf"
    assert "1 Acar, Zeynep Kulturverein Offenbach" in text_lines(response.data)
    assert_no_warnings(weasyprint_log)


@pytest.mark.parametrize(("first", "last", "language"), [("Leyla", "Yılmaz", "en"), ("ليلى", "العلي", "ar")])
def test_a_certificate_renders_without_warnings(certificate, weasyprint_log, first, last, language):  # noqa: F811
    pdf = certificate(first, last, language)
    assert f"{first} {last}" in text_lines(pdf)
    assert_no_warnings(weasyprint_log)


def test_the_report_renders_without_warnings(client, seeded, weasyprint_log):  # noqa: F811
    log_in(client, COORDINATOR)
    response = client.get(f"/admin/report.pdf?{PERIOD}")
    assert response.mimetype == "application/pdf"
    assert "Report for the funder" in text_lines(response.data)
    assert_no_warnings(weasyprint_log)


def test_the_sheets_page_links_the_preview_stylesheet_and_the_pdf_does_not_use_it(app, client, staff,  # noqa: F811
                                                                                  seminar):  # noqa: F811
    from booking.documents import rendering

    log_in(client, staff["trainer"])
    page = client.get(sheet_url(seminar)).get_data(as_text=True)
    assert 'href="/static/css/documents.css"' in page and 'href="/static/css/document-preview.css"' in page
    with app.app_context():
        assert "@media screen" not in rendering.stylesheet_path().read_text(encoding="utf-8")
        preview = rendering.stylesheet_path().with_name("document-preview.css").read_text(encoding="utf-8")
    # the phone preview and the print rules are still there, on the page
    assert "@media screen and (max-width: 40rem)" in preview and "@media print" in preview
