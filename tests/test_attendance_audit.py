"""Every change of an attendance tick is in the audit log: one entry per change, naming who ticked
and what (the status, the one before, the session), shown in the registration's history."""
from __future__ import annotations

import re

from booking import audit
from booking.extensions import db

from tests.factories import csrf_token
from tests.test_attendance_lists import day, list_url, log_in, tick_url  # noqa: F401  (the fixture)


def tick(client, day, person, status, session="session"):  # noqa: F811
    response = client.post(tick_url(day, person, session),
                           data={"status": status, "csrf_token": csrf_token(client, list_url(day, session))})
    assert response.status_code == 302


def entries(registration_id):
    return list(db.session.scalars(db.select(audit.AuditEntry).where(
        audit.AuditEntry.action == "attendance.recorded", audit.AuditEntry.registration_id == registration_id)
        .order_by(audit.AuditEntry.id)))


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_each_change_is_one_entry_with_who_and_what(app, client, day):  # noqa: F811
    log_in(client, "trainerin@stadt.example")
    tick(client, day, "leyla", "absent")
    tick(client, day, "leyla", "absent")  # the same tap again: no change, no entry
    tick(client, day, "leyla", "present")
    tick(client, day, "omar", "excused", session="second")

    with app.app_context():
        leyla = entries(day["leyla"])
        assert [(e.detail["status"], e.detail["previous"]) for e in leyla] == [("absent", None), ("present", "absent")]
        assert all(e.actor_kind == "user" and e.actor_user_id == day["trainer_id"] and e.actor_label == "Trainerin"
                   for e in leyla)
        assert all(e.seminar_id == day["seminar"] and e.detail["session_id"] == day["session"]
                   and e.detail["session_number"] == 1 for e in leyla)
        [omar] = entries(day["omar"])
        assert (omar.detail["status"], omar.detail["session_number"]) == ("excused", 2)

    office = app.test_client()
    log_in(office, "koordination@stadt.example")
    page = text_of(office.get(f"/admin/registrations/{day['leyla']}"))
    assert "Attendance ticked: Present (before: Absent), session 1 on" in page
    assert "Attendance ticked: Absent, session 1 on" in page
    assert "(Trainerin)" in page
    # the seminar's own history is not crowded with ticks
    assert "Attendance ticked" not in text_of(office.get(f"/admin/seminars/{day['seminar']}"))


def test_a_refused_tick_leaves_no_entry(app, client, day):  # noqa: F811
    log_in(client, "trainerin@stadt.example")
    response = client.post(tick_url(day, "waiting"),
                           data={"status": "present", "csrf_token": csrf_token(client, list_url(day))})
    assert response.status_code == 409
    with app.app_context():
        assert entries(day["waiting"]) == []
