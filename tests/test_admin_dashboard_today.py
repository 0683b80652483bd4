"""The overview links to today's attendance lists: every session starting today for a coordinator,
a trainer's own for a trainer; not tomorrow's, not a cancelled one, not a draft's."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.extensions import db
from booking.formatting import to_local
from booking.seminars.models import SeminarStatus, SessionStatus

from tests.factories import csrf_token, make_seminar, now

PASSWORD = "ein langes Passwort"


def login(client, email):
    response = client.post("/admin/login", data={"email": email, "password": PASSWORD,
                                                  "csrf_token": csrf_token(client, "/admin/login")})
    assert response.status_code == 302


@pytest.fixture
def today(app_ctx):
    trainer = create_user("derya@stadt.example", role=Role.TRAINER, display_name="Derya", password=PASSWORD)
    create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                password=PASSWORD)
    midnight = to_local(now()).replace(hour=0, minute=0, second=0, microsecond=0)

    def seminar(title, start, **overrides):
        return make_seminar(sessions=[(start, start + timedelta(hours=2))], title=title, **overrides)

    mine = seminar("Vereinsrecht", midnight + timedelta(minutes=1), trainer_user_id=trainer.id)
    other = seminar("Öffentlichkeitsarbeit", midnight + timedelta(hours=21))
    tomorrow = seminar("Morgen", midnight + timedelta(days=1, minutes=1))
    cancelled = seminar("Abgesagt", midnight + timedelta(hours=20))
    cancelled.sessions[0].status = SessionStatus.CANCELLED
    draft = seminar("Entwurf", midnight + timedelta(hours=19), status=SeminarStatus.DRAFT)
    db.session.commit()
    return {"mine": mine, "other": other, "tomorrow": tomorrow, "cancelled": cancelled, "draft": draft}


def today_links(client) -> list[tuple[str, str]]:
    page = client.get("/admin/").get_data(as_text=True)
    section = re.search(r'<ul class="today-lists">(.*?)</ul>', page, re.S)
    if section is None:
        return []
    return re.findall(r'<a class="button button-primary" href="([^"]+)">Attendance list: ([^,<]+),', section.group(1))


def attendance_path(seminar) -> str:
    return f"/admin/seminars/{seminar.id}/sessions/{seminar.sessions[0].id}/attendance"


def test_a_coordinator_sees_every_session_starting_today(today, client):
    login(client, "koordination@stadt.example")
    assert today_links(client) == [(attendance_path(today["mine"]), "Vereinsrecht"),
                                   (attendance_path(today["other"]), "Öffentlichkeitsarbeit")]
    assert client.get(attendance_path(today["other"])).status_code == 200


def test_a_trainer_sees_only_their_own(today, client):
    login(client, "derya@stadt.example")
    assert today_links(client) == [(attendance_path(today["mine"]), "Vereinsrecht")]
    assert client.get(attendance_path(today["mine"])).status_code == 200


def test_no_session_today_no_section(app_ctx, client):
    create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                password=PASSWORD)
    make_seminar(sessions=2)  # a week ahead
    db.session.commit()
    login(client, "koordination@stadt.example")
    assert "Today's attendance lists" not in client.get("/admin/").get_data(as_text=True)
