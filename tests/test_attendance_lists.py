"""A session's attendance list in the workspace: ticking without JavaScript (a plain POST per row
that comes back to the row) and with it (the same route answering JSON), who may, and when not."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.attendance.models import Attendance, AttendanceStatus
from booking.extensions import db
from booking.privacy.services import anonymise_registration
from booking.registrations import services as registrations
from booking.seminars.models import SeminarStatus, SessionStatus

from tests.factories import csrf_token, make_applicant, make_seminar, now

PASSWORD = "ein langes Passwort"


@pytest.fixture
def day(app):
    """A seminar whose first session is under way: its trainer, another trainer, a coordinator,
    two participants with a place and one on the waiting list."""
    with app.app_context():
        coordinator = create_user("koordination@stadt.example", role=Role.COORDINATOR,
                                  display_name="Koordination", password=PASSWORD)
        trainer = create_user("trainerin@stadt.example", role=Role.TRAINER, display_name="Trainerin",
                              password=PASSWORD)
        create_user("anderer@stadt.example", role=Role.TRAINER, display_name="Anderer", password=PASSWORD)
        start = now() - timedelta(minutes=30)
        seminar = make_seminar(sessions=[(start, start + timedelta(hours=2)),
                                         (start + timedelta(days=7), start + timedelta(days=7, hours=2))],
                               capacity=2, trainer_user_id=trainer.id)
        leyla = registrations.register(seminar, make_applicant(first_name="Leyla", last_name="Yılmaz"), None)
        omar = registrations.register(seminar, make_applicant(first_name="Omar", last_name="Haddad"), None)
        waiting = registrations.register(seminar, make_applicant(first_name="Gül", last_name="Aydın"), None)
        other = make_seminar()
        stranger = registrations.register(other, make_applicant(first_name="Fremd", last_name="Person"), None)
        db.session.commit()
        return {"seminar": seminar.id, "session": seminar.sessions[0].id, "second": seminar.sessions[1].id,
                "leyla": leyla.id, "omar": omar.id, "waiting": waiting.id, "stranger": stranger.id,
                "other": other.id, "other_session": other.sessions[0].id,
                "coordinator_id": coordinator.id, "trainer_id": trainer.id}


def log_in(client, email):
    response = client.post("/admin/login", data={"email": email, "password": PASSWORD,
                                                 "csrf_token": csrf_token(client, "/admin/login")})
    assert response.status_code == 302


def list_url(day, session="session"):
    return f"/admin/seminars/{day['seminar']}/sessions/{day[session]}/attendance"


def tick_url(day, person, session="session"):
    return f"{list_url(day, session)}/{day[person]}"


def ticks(app):
    with app.app_context():
        return {(a.session_id, a.registration_id): (a.status, a.recorded_by_user_id)
                for a in db.session.scalars(db.select(Attendance))}


def row(page: str, registration_id: int) -> str:
    match = re.search(rf'<li class="roll-row" id="person-{registration_id}".*?</li>', page, re.S)
    assert match, f"no row for registration {registration_id}"
    return match.group(0)


def pressed(row_html: str) -> list[str]:
    return re.findall(r'value="(\w+)"\s+class="[^"]*"\s+aria-pressed="true"', row_html)


def test_the_trainer_ticks_without_javascript_and_comes_back_to_the_row(app, client, day):
    log_in(client, "trainerin@stadt.example")
    page = client.get(list_url(day)).get_data(as_text=True)
    assert "Yılmaz, Leyla" in page and "Haddad, Omar" in page
    assert "Aydın" not in page  # the waiting list has no place, so is not on the list
    assert pressed(row(page, day["leyla"])) == []

    response = client.post(tick_url(day, "leyla"), data={"status": "present",
                                                         "csrf_token": csrf_token(client, list_url(day))})

    assert response.status_code == 302
    assert response.headers["Location"] == list_url(day) + f"#person-{day['leyla']}"
    assert ticks(app) == {(day["session"], day["leyla"]): (AttendanceStatus.PRESENT, day["trainer_id"])}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert pressed(row(page, day["leyla"])) == ["present"]
    assert '<p class="roll-state" data-state>Present</p>' in row(page, day["leyla"])
    assert pressed(row(page, day["omar"])) == []

    # a second tick changes the first, it does not add another
    client.post(tick_url(day, "leyla"), data={"status": "excused", "csrf_token": csrf_token(client, list_url(day))})
    assert ticks(app) == {(day["session"], day["leyla"]): (AttendanceStatus.EXCUSED, day["trainer_id"])}


def test_each_row_is_its_own_form_with_three_buttons_and_no_inline_script(app, client, day):
    log_in(client, "trainerin@stadt.example")
    response = client.get(list_url(day))
    page = response.get_data(as_text=True)
    forms = re.findall(r'<form method="post" class="roll-form" data-attendance\s+action="([^"]+)"', page)
    assert forms == [tick_url(day, "omar"), tick_url(day, "leyla")]  # by last name: Haddad, Yılmaz
    for registration in ("leyla", "omar"):
        buttons = re.findall(r'<button type="submit" name="status" value="(\w+)"', row(page, day[registration]))
        assert buttons == ["present", "absent", "excused"]
    assert '<script src="/static/js/attendance.js" defer></script>' in page
    assert "<script>" not in page and "style=" not in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_with_javascript_the_same_route_answers_json(app, client, day):
    log_in(client, "koordination@stadt.example")
    token = csrf_token(client, list_url(day))

    response = client.post(tick_url(day, "omar"), data={"status": "absent", "csrf_token": token},
                           headers={"Accept": "application/json"})

    assert response.status_code == 200
    assert response.json == {"registration_id": day["omar"], "status": "absent", "label": "Absent",
                             "message": "Omar Haddad: Absent",
                             "counts": {"present": 0, "absent": 1, "excused": 0, "unticked": 1}}
    assert ticks(app) == {(day["session"], day["omar"]): (AttendanceStatus.ABSENT, day["coordinator_id"])}


def test_json_ticks_need_the_csrf_token_too(app, client, day):
    log_in(client, "koordination@stadt.example")
    response = client.post(tick_url(day, "omar"), data={"status": "absent"}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert ticks(app) == {}


def test_a_status_that_is_none_of_the_three_is_refused_beside_the_list(app, client, day):
    log_in(client, "koordination@stadt.example")
    token = csrf_token(client, list_url(day))
    response = client.post(tick_url(day, "omar"), data={"status": "late", "csrf_token": token})
    assert response.status_code == 422
    assert "Choose present, absent or excused." in response.get_data(as_text=True)
    response = client.post(tick_url(day, "omar"), data={"csrf_token": token}, headers={"Accept": "application/json"})
    assert response.status_code == 422 and response.json == {"error": "Choose present, absent or excused."}
    assert ticks(app) == {}


def test_another_trainer_gets_403_and_unknown_ids_404(app, client, day):
    log_in(client, "anderer@stadt.example")
    assert client.get(list_url(day)).status_code == 403
    token = csrf_token(client, "/admin/")
    assert client.post(tick_url(day, "leyla"), data={"status": "present", "csrf_token": token}).status_code == 403
    assert ticks(app) == {}

    client.post("/admin/logout", data={"csrf_token": token})
    log_in(client, "trainerin@stadt.example")
    token = csrf_token(client, list_url(day))
    seminar, session = day["seminar"], day["session"]
    for url in (f"/admin/seminars/{seminar}/sessions/999999/attendance",
                f"/admin/seminars/999999/sessions/{session}/attendance",
                f"/admin/seminars/{seminar}/sessions/{day['other_session']}/attendance",  # another seminar's session
                f"/admin/seminars/{seminar}/sessions/abc/attendance"):
        assert client.get(url).status_code == 404, url
    for url in (f"{list_url(day)}/999999", f"{list_url(day)}/{day['stranger']}", f"{list_url(day)}/x"):
        assert client.post(url, data={"status": "present", "csrf_token": token}).status_code == 404, url
    assert ticks(app) == {}


def test_someone_without_a_place_cannot_be_ticked(app, client, day):
    log_in(client, "trainerin@stadt.example")
    response = client.post(tick_url(day, "waiting"), data={"status": "present",
                                                           "csrf_token": csrf_token(client, list_url(day))})
    assert response.status_code == 409
    assert "Only participants with a place are on the attendance list." in response.get_data(as_text=True)
    assert ticks(app) == {}


@pytest.mark.parametrize("what", ["seminar", "session"])
def test_a_cancelled_seminar_or_session_cannot_be_ticked(app, client, day, what):
    log_in(client, "trainerin@stadt.example")
    token = csrf_token(client, list_url(day))
    client.post(tick_url(day, "leyla"), data={"status": "present", "csrf_token": token})
    with app.app_context():
        from booking.seminars.models import Seminar, Session
        if what == "seminar":
            db.session.get(Seminar, day["seminar"]).status = SeminarStatus.CANCELLED
            message = "This seminar has been cancelled: attendance can no longer be recorded."
        else:
            db.session.get(Session, day["session"]).status = SessionStatus.CANCELLED
            message = "This session has been cancelled: there is no attendance to record."
        db.session.commit()

    page = client.get(list_url(day)).get_data(as_text=True)
    assert message in page
    assert "roll-form" not in page  # the earlier tick is shown, nothing can be pressed
    assert '<p class="roll-state" data-state>Present</p>' in row(page, day["leyla"])

    response = client.post(tick_url(day, "omar"), data={"status": "absent", "csrf_token": token})
    assert response.status_code == 409 and message in response.get_data(as_text=True)
    response = client.post(tick_url(day, "omar"), data={"status": "absent", "csrf_token": token},
                           headers={"Accept": "application/json"})
    assert response.status_code == 409 and response.json == {"error": message}
    assert ticks(app) == {(day["session"], day["leyla"]): (AttendanceStatus.PRESENT, day["trainer_id"])}


def test_a_tick_stays_on_the_list_after_the_person_cancels(app, client, day):
    log_in(client, "trainerin@stadt.example")
    client.post(tick_url(day, "leyla"), data={"status": "present", "csrf_token": csrf_token(client, list_url(day))})
    with app.app_context():
        from booking.registrations.models import Registration
        registrations.cancel_registration(db.session.get(Registration, day["leyla"]))
        db.session.commit()
    page = client.get(list_url(day)).get_data(as_text=True)
    assert "Cancelled" in row(page, day["leyla"]) and pressed(row(page, day["leyla"])) == ["present"]
    # Gül got the place that was freed
    assert "Aydın, Gül" in page
    # on the next session's list she is not, having cancelled before it
    assert "Yılmaz" not in client.get(list_url(day, "second")).get_data(as_text=True)


def test_an_anonymised_registration_keeps_its_tick_but_no_name(app, client, day):
    log_in(client, "koordination@stadt.example")
    client.post(tick_url(day, "leyla"), data={"status": "absent", "csrf_token": csrf_token(client, list_url(day))})
    with app.app_context():
        from booking.registrations.models import Registration
        anonymise_registration(db.session.get(Registration, day["leyla"]))
        db.session.commit()
    assert ticks(app) == {(day["session"], day["leyla"]): (AttendanceStatus.ABSENT, day["coordinator_id"])}
    page = client.get(list_url(day)).get_data(as_text=True)
    assert "Yılmaz" not in page and "Anonymised participant" in row(page, day["leyla"])


def test_the_seminar_page_links_each_session_attendance_list(app, client, day):
    log_in(client, "trainerin@stadt.example")
    page = client.get(f"/admin/seminars/{day['seminar']}").get_data(as_text=True)
    assert f'href="{list_url(day)}"' in page and f'href="{list_url(day, "second")}"' in page
