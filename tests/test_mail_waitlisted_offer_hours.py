"""The waiting-list email says that a place freed up late comes as an offer to accept within
BOOKING_OFFER_HOURS."""
from __future__ import annotations

import pytest

from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending

from tests.factories import make_registration, make_seminar


def waiting_email(smtp_server, address="wait@example.net", language="en"):
    seminar = make_seminar(capacity=1)
    make_registration(seminar)
    make_registration(seminar, email=address, preferred_language=language)
    db.session.commit()
    dispatch_pending()
    [email] = [m for m in smtp_server.messages if m["To"] == address]
    return email.get_body(("plain",)).get_content(), email.get_body(("html",)).get_content()


def test_the_waiting_list_email_names_the_hours_to_accept_a_late_place(app_ctx, smtp_server):
    text, html = waiting_email(smtp_server)
    sentence = "A place that becomes free shortly before the seminar is offered to you by email: you then have 24 hours to accept it."
    assert sentence in text
    assert sentence in html


@pytest.mark.parametrize(("hours", "shown"), [(1, "1 hour "), (36, "36 hours"), (1.5, "1.5 hours")])
def test_the_hours_follow_the_setting(app_ctx, smtp_server, hours, shown):
    app_ctx.config["BOOKING_OFFER_HOURS"] = hours
    text, _ = waiting_email(smtp_server)
    assert f"you then have {shown}" in text
