"""The HTML emails read well on a phone: at 360 px nothing is wider than the screen (long personal
links break), in a left-to-right and a right-to-left language."""
from __future__ import annotations

import pytest

from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import OutboxMessage

from tests.browser import browser, horizontal_overflow, open_page  # noqa: F401
from tests.factories import make_registration, make_seminar


@pytest.mark.parametrize("language", ["de", "ar"])
def test_every_html_email_fits_a_360_px_phone(app, browser, smtp_server, language):  # noqa: F811
    with app.app_context():
        seminar = make_seminar(sessions=2, title="Vereinsrecht für Vorstände und alle, die es werden wollen")
        make_registration(seminar, preferred_language=language, email=f"leser-{language}@example.net")
        db.session.commit()
        dispatch_pending()
        bodies = [(m.kind, m.subject) for m in db.session.scalars(db.select(OutboxMessage))]
    received = [m for m in smtp_server.messages if m["To"] == f"leser-{language}@example.net"]
    assert len(received) == len(bodies) == 3
    context, page = open_page(browser, viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        for message in received:
            page.set_content(message.get_body(("html",)).get_content())
            assert page.evaluate("document.querySelector('meta[name=viewport]') !== null")
            assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else None)
            assert horizontal_overflow(page) == 0, f"{message['Subject']!r} is wider than a 360 px phone"
    finally:
        context.close()
