"""The office sees open offers: the registrations list marks who has a late place offered and until
when, and the seminar's page counts them."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.extensions import db
from booking.formatting import datetime_short
from booking.registrations import services

from tests.factories import csrf_token, make_registration, make_seminar, now

PASSWORD = "ein langes Passwort"


@pytest.fixture
def coordinator_client(app, client):
    with app.app_context():
        create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                    password=PASSWORD)
        db.session.commit()
    response = client.post("/admin/login", data={"email": "koordination@stadt.example", "password": PASSWORD,
                                                  "csrf_token": csrf_token(client, "/admin/login")})
    assert response.status_code == 302
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_an_open_offer_is_marked_with_its_deadline_and_counted(app_ctx, coordinator_client):
    start = now().replace(microsecond=0) + timedelta(hours=48)
    seminar = make_seminar(sessions=[(start, start + timedelta(hours=2))], capacity=1)
    holder = make_registration(seminar, last_name="Arslan")
    offered = make_registration(seminar, last_name="Bulut")
    make_registration(seminar, last_name="Çelik")
    db.session.commit()

    listing = text_of(coordinator_client.get(f"/admin/seminars/{seminar.id}/registrations"))
    page = text_of(coordinator_client.get(f"/admin/seminars/{seminar.id}"))
    assert "Offered, expires at" not in listing and "open offer" not in listing
    assert "open offer" not in page

    services.cancel_registration(holder)  # two days ahead: the place is offered to Bulut
    db.session.commit()
    db.session.refresh(offered)
    assert offered.has_open_offer

    listing = text_of(coordinator_client.get(f"/admin/seminars/{seminar.id}/registrations"))
    deadline = datetime_short(offered.offer_expires_at)
    assert f"Offered, expires at {deadline}" in listing
    assert listing.count("Offered, expires at") == 1  # Çelik waits without an offer
    assert "2 on the waiting list (1 open offer)" in listing
    page = text_of(coordinator_client.get(f"/admin/seminars/{seminar.id}"))
    assert "2 people; 1 of them has a place offered (open offer)" in page

    services.decline_offer(offered)  # the offer moves on to Çelik
    db.session.commit()
    listing = text_of(coordinator_client.get(f"/admin/seminars/{seminar.id}/registrations"))
    assert listing.count("Offered, expires at") == 1
    assert "1 on the waiting list (1 open offer)" in listing
