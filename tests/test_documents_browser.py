"""A trainer prints a session's sign-in sheet in a real browser: from the seminar's page to the sheet,
what the printer gets, and the PDF download (Chromium, strict Content-Security-Policy)."""
from __future__ import annotations

from playwright.sync_api import expect

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.extensions import db

from tests.browser import browser, live_server, page  # noqa: F401
from tests.factories import make_association, make_registration, make_seminar
from tests.pdf_text import text_lines


def test_a_trainer_opens_prints_and_downloads_a_sign_in_sheet(app, live_server, page, tmp_path):
    with app.app_context():
        trainer = create_user("trainerin@stadt.example", role=Role.TRAINER, display_name="Trainerin",
                              password="ein langes Passwort")
        seminar = make_seminar(2, title="Vereinsrecht kompakt", trainer_user_id=trainer.id)
        make_registration(seminar, make_association("Kulturverein Offenbach"), first_name="Zeynep", last_name="Acar")
        make_registration(seminar, None, first_name="ليلى", last_name="العلي")
        db.session.commit()
        seminar_id = seminar.id

    page.goto(live_server(f"/admin/seminars/{seminar_id}"))
    page.get_by_label("Email address").fill("trainerin@stadt.example")
    page.get_by_label("Password").fill("ein langes Passwort")
    page.get_by_role("button", name="Log in").click()
    sheets = page.get_by_role("region", name="Sign-in sheets")
    sheets.get_by_role("link").first.click()

    expect(page.get_by_role("heading", name="Sign-in sheet")).to_be_visible()
    rows = page.locator(".sign-in-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Acar, Zeynep")
    expect(rows.nth(0)).to_contain_text("Kulturverein Offenbach")
    expect(rows.nth(1)).to_contain_text("العلي, ليلى")

    # printed: the sheet alone, without the site's and the workspace's navigation
    page.emulate_media(media="print")
    expect(page.locator(".sign-in-table")).to_be_visible()
    for hidden in (".site-header", ".workspace-nav", ".document-tools", ".site-footer"):
        expect(page.locator(hidden)).to_be_hidden()
    page.emulate_media(media="screen")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as PDF").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    lines = text_lines(target.read_bytes())
    assert "1 Acar, Zeynep Kulturverein Offenbach" in lines
    assert page.console_log.csp_violations == []
