"""The workspace's seminar pages: creating with sessions, publishing, editing with announced changes,
capacity and the waiting list, concurrent edits, duplicating, deleting, topics, and who may do what."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.extensions import db
from booking.mail.models import MessageKind, OutboxMessage
from booking.registrations.models import Registration, RegistrationStatus
from booking.seminars import scheduling
from booking.seminars.models import Seminar, SeminarStatus, Session, Topic

from tests.factories import csrf_token, make_registration, make_seminar, make_topic, now

PASSWORD = "ein langes Passwort"
BERLIN = ZoneInfo("Europe/Berlin")  # BOOKING_TIMEZONE of the tests


@pytest.fixture
def staff(app):
    with app.app_context():
        create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                    password=PASSWORD)
        create_user("zweite@stadt.example", role=Role.COORDINATOR, display_name="Zweite", password=PASSWORD)
        trainer = create_user("trainerin@stadt.example", role=Role.TRAINER, display_name="Ayşe Demir",
                              password=PASSWORD)
        topic = make_topic(name="Vereinsrecht")
        db.session.commit()
        return {"trainer_id": trainer.id, "topic_id": topic.id}


def log_in(client, email="koordination@stadt.example"):
    response = client.post("/admin/login", data={"email": email, "password": PASSWORD,
                                                 "csrf_token": csrf_token(client, "/admin/login")})
    assert response.status_code == 302
    return client


@pytest.fixture
def office(client, staff):
    return log_in(client)


def future_day(days=14) -> str:
    return (now() + timedelta(days=days)).astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d")


def seminar_data(topic_id, **overrides) -> dict:
    data = {"title": "Vereinsfinanzen", "topic_id": str(topic_id), "languages": ["de", "tr"], "capacity": "12",
            "trainer": "Ayşe Demir", "venue_name": "Haus der Vereine", "venue_address": "Bieberer Straße 1",
            "sessions-0-day": future_day(14), "sessions-0-starts": "18:00", "sessions-0-ends": "20:30",
            "sessions-1-day": future_day(21), "sessions-1-starts": "18:00", "sessions-1-ends": "20:30",
            "save": "1"}
    return data | overrides


def post(client, path, data, page=None):
    return client.post(path, data=data | {"csrf_token": csrf_token(client, page or path)})


def edit_data(seminar: Seminar, **overrides) -> dict:
    data = {"title": seminar.title, "topic_id": str(seminar.topic_id), "languages": seminar.language_codes,
            "capacity": str(seminar.capacity), "trainer": seminar.trainer, "venue_name": seminar.venue_name,
            "venue_address": seminar.venue_address, "version": str(seminar.version), "save": "1"}
    for index, session in enumerate(s for s in seminar.sessions if s.status == "scheduled"):
        start, end = session.starts_at.astimezone(BERLIN), session.ends_at.astimezone(BERLIN)
        data |= {f"sessions-{index}-session_id": str(session.id), f"sessions-{index}-day": f"{start:%Y-%m-%d}",
                 f"sessions-{index}-starts": f"{start:%H:%M}", f"sessions-{index}-ends": f"{end:%H:%M}"}
    return data | overrides


def only_seminar(app) -> Seminar:
    with app.app_context():
        seminar = db.session.scalar(db.select(Seminar))
        _ = seminar.sessions, seminar.topic
        return seminar


# --- creating and publishing -------------------------------------------------------------------

def test_a_coordinator_creates_a_draft_with_two_sessions_in_local_time_and_publishes_it(app, office, staff, client):
    response = post(client, "/admin/seminars/new", seminar_data(staff["topic_id"]))
    assert response.status_code == 302
    seminar = only_seminar(app)
    assert seminar.status == SeminarStatus.DRAFT and seminar.languages == "de tr"
    assert [s.starts_at.astimezone(BERLIN).strftime("%H:%M") for s in seminar.sessions] == ["18:00", "18:00"]
    assert seminar.sessions[0].starts_at.tzinfo is not None
    assert client.get(f"/seminars/{seminar.slug}").status_code == 404  # a draft stays hidden from the public
    assert "Vereinsfinanzen" not in client.get("/").get_data(as_text=True)

    page = client.get(f"/admin/seminars/{seminar.id}").get_data(as_text=True)
    assert "Draft" in page and "Seminar created" in page
    response = post(client, f"/admin/seminars/{seminar.id}/publish", {}, page=f"/admin/seminars/{seminar.id}")
    assert response.status_code == 302
    assert only_seminar(app).status == SeminarStatus.PUBLISHED
    assert "Vereinsfinanzen" in app.test_client().get("/").get_data(as_text=True)


def test_the_same_new_seminar_form_sent_twice_creates_one_seminar(app, office, staff, client):
    data = seminar_data(staff["topic_id"]) | {"csrf_token": csrf_token(client, "/admin/seminars/new"),
                                              "creation_key": "one-form-key"}
    assert client.post("/admin/seminars/new", data=data).status_code == 302
    assert client.post("/admin/seminars/new", data=data).status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Seminar.id))) == 1


@pytest.mark.parametrize("overrides, message", [
    ({"sessions-1-ends": "17:00"}, "The session must end after it starts."),
    ({"capacity": "0"}, "Please enter a capacity of at least 1."),
    ({"capacity": "zwölf"}, "Please enter a whole number."),
    ({"registration_deadline": f"{future_day(30)}T12:00"},
     "The registration deadline must be before the end of the last session."),
    ({"topic_id": ""}, "Please choose a topic."),
    ({"sessions-0-starts": ""}, "Please enter a time (hours and minutes)."),
    ({"capacity": "99999999999999999999"}, "Please enter"),
])
def test_bad_entries_are_refused_beside_the_field_and_nothing_is_stored(app, office, staff, client, overrides, message):
    response = post(client, "/admin/seminars/new", seminar_data(staff["topic_id"]) | overrides)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'class="field-error"' in page
    assert 'value="Vereinsfinanzen"' in page  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Seminar.id))) == 0


def test_session_rows_are_added_and_removed_without_javascript(app, office, staff, client):
    data = seminar_data(staff["topic_id"])
    data.pop("save")
    page = post(client, "/admin/seminars/new", data | {"add_row": "1"}).get_data(as_text=True)
    assert 'name="sessions-2-day"' in page and "Session 3" in page
    page = post(client, "/admin/seminars/new", data | {"remove_row": "0"}).get_data(as_text=True)
    assert 'name="sessions-1-day"' in page and 'name="sessions-0-day"' not in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Seminar.id))) == 0


def test_publishing_needs_a_future_session(app, office, client):
    with app.app_context():
        past = now() - timedelta(days=3)
        seminar = make_seminar([(past, past + timedelta(hours=2))], status=SeminarStatus.DRAFT)
        db.session.commit()
        seminar_id = seminar.id
    response = post(client, f"/admin/seminars/{seminar_id}/publish", {}, page=f"/admin/seminars/{seminar_id}")
    assert response.status_code == 409
    assert "at least one session in the future" in response.get_data(as_text=True)
    assert only_seminar(app).status == SeminarStatus.DRAFT


def test_a_coordinator_previews_a_draft_as_the_public_will_see_it(app, office, client):
    with app.app_context():
        seminar = make_seminar(status=SeminarStatus.DRAFT, title="Öffentlichkeitsarbeit")
        db.session.commit()
        seminar_id, slug = seminar.id, seminar.slug
    page = client.get(f"/admin/seminars/{seminar_id}/preview").get_data(as_text=True)
    assert "Öffentlichkeitsarbeit" in page and "Preview:" in page and "Register" in page
    assert "not open for registration" not in page
    assert app.test_client().get(f"/seminars/{slug}").status_code == 404


# --- editing a published seminar ---------------------------------------------------------------

def test_moving_a_session_says_how_many_are_told_before_saving_and_then_tells_them(app, office, client):
    with app.app_context():
        seminar = make_seminar(capacity=5)
        make_registration(seminar)
        make_registration(seminar)
        db.session.commit()
        seminar_id = seminar.id
    seminar = only_seminar(app)
    moved_day = (seminar.sessions[0].starts_at + timedelta(days=1)).astimezone(BERLIN).strftime("%Y-%m-%d")
    data = edit_data(seminar, **{"sessions-0-day": moved_day})
    with app.app_context():
        invitations_before = db.session.scalar(db.select(db.func.count(OutboxMessage.id)))

    asked = post(client, f"/admin/seminars/{seminar_id}/edit", data)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "2 participants will be told" in page
    assert only_seminar(app).sessions[0].starts_at == seminar.sessions[0].starts_at  # nothing saved yet
    fingerprint = page.split('name="confirmation" type="hidden" value="')[1].split('"')[0]

    saved = post(client, f"/admin/seminars/{seminar_id}/edit", data | {"confirmation": fingerprint, "confirm": "1"})
    assert saved.status_code == 302
    after = only_seminar(app)
    assert after.sessions[0].starts_at == seminar.sessions[0].starts_at + timedelta(days=1)
    assert after.sessions[0].revision == 1 and after.version == seminar.version + 1
    with app.app_context():
        updates = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.INVITATION,
                                                                    OutboxMessage.revision == 1)).all()
        assert len(updates) == 2
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == invitations_before + 2


def test_a_session_cannot_be_moved_into_the_past(app, office, client):
    with app.app_context():
        seminar = make_seminar()
        make_registration(seminar)
        db.session.commit()
    seminar = only_seminar(app)
    yesterday = (now() - timedelta(days=1)).astimezone(BERLIN).strftime("%Y-%m-%d")
    response = post(client, f"/admin/seminars/{seminar.id}/edit",
                    edit_data(seminar, **{"sessions-0-day": yesterday, "confirmation": "x"}))
    page = response.get_data(as_text=True)
    if response.status_code == 200:  # the confirmation step first
        fingerprint = page.split('name="confirmation" type="hidden" value="')[1].split('"')[0]
        response = post(client, f"/admin/seminars/{seminar.id}/edit",
                        edit_data(seminar, **{"sessions-0-day": yesterday, "confirmation": fingerprint}))
        page = response.get_data(as_text=True)
    assert response.status_code == 422 and "A session cannot be moved into the past." in page
    assert only_seminar(app).sessions[0].starts_at == seminar.sessions[0].starts_at


def test_the_command_line_refuses_a_move_into_the_past_too(app):
    with app.app_context():
        seminar = make_seminar()
        db.session.commit()
        session_id = seminar.sessions[0].id
    past = (now() - timedelta(days=30)).astimezone(BERLIN)
    result = app.test_cli_runner().invoke(args=[
        "booking", "move-session", str(session_id), "--start", f"{past:%Y-%m-%d} 18:00", "--end", f"{past:%Y-%m-%d} 20:00"])
    assert result.exit_code == 1 and "A session cannot be moved into the past." in result.output
    with app.app_context():
        assert db.session.get(Session, session_id).revision == 0


def test_a_new_session_of_a_published_seminar_invites_everyone_with_a_place(app, office, client):
    with app.app_context():
        seminar = make_seminar()
        make_registration(seminar)
        db.session.commit()
    seminar = only_seminar(app)
    data = edit_data(seminar, **{"sessions-2-day": future_day(40), "sessions-2-starts": "10:00",
                                 "sessions-2-ends": "12:00"})
    page = post(client, f"/admin/seminars/{seminar.id}/edit", data).get_data(as_text=True)
    assert "1 participant will be told" in page
    fingerprint = page.split('name="confirmation" type="hidden" value="')[1].split('"')[0]
    assert post(client, f"/admin/seminars/{seminar.id}/edit", data | {"confirmation": fingerprint}).status_code == 302
    with app.app_context():
        new_session = db.session.scalars(db.select(Session).order_by(Session.starts_at.desc())).first()
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
            OutboxMessage.session_id == new_session.id, OutboxMessage.kind == MessageKind.INVITATION)) == 1


def test_raising_the_capacity_promotes_from_the_waiting_list_and_lowering_below_the_confirmed_is_refused(
        app, office, client):
    with app.app_context():
        seminar = make_seminar(capacity=2)
        for _ in range(4):
            make_registration(seminar)
        db.session.commit()
    seminar = only_seminar(app)
    refused = post(client, f"/admin/seminars/{seminar.id}/edit", edit_data(seminar, capacity="1"))
    assert refused.status_code == 422
    assert "2 participants already have a place" in refused.get_data(as_text=True)
    assert only_seminar(app).capacity == 2

    assert post(client, f"/admin/seminars/{seminar.id}/edit", edit_data(seminar, capacity="3")).status_code == 302
    with app.app_context():
        statuses = [r.status for r in db.session.scalars(db.select(Registration).order_by(Registration.id))]
    assert statuses == [RegistrationStatus.CONFIRMED] * 3 + [RegistrationStatus.WAITLISTED]


def test_the_later_of_two_edits_does_not_silently_overwrite_the_earlier(app, staff, client):
    with app.app_context():
        make_seminar(status=SeminarStatus.DRAFT, title="Vereinsrecht")
        db.session.commit()
    seminar = only_seminar(app)
    first, second = log_in(app.test_client()), log_in(app.test_client(), "zweite@stadt.example")
    form_first = edit_data(seminar, title="Vereinsrecht für Einsteiger")
    form_second = edit_data(seminar, capacity="20")
    assert post(first, f"/admin/seminars/{seminar.id}/edit", form_first).status_code == 302
    response = post(second, f"/admin/seminars/{seminar.id}/edit", form_second)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else saved this seminar" in page and "Koordination" in page and "Title" in page
    stored = only_seminar(app)
    assert (stored.title, stored.capacity) == ("Vereinsrecht für Einsteiger", 10)
    # the same form sent twice (a double click) is no conflict
    assert post(first, f"/admin/seminars/{seminar.id}/edit", form_first).status_code == 302


# --- cancelling, duplicating, deleting ---------------------------------------------------------

def test_cancelling_a_session_asks_for_a_reason_and_tells_the_participants(app, office, client):
    with app.app_context():
        seminar = make_seminar()
        make_registration(seminar)
        db.session.commit()
        seminar_id, session_id = seminar.id, seminar.sessions[0].id
    path = f"/admin/seminars/{seminar_id}/sessions/{session_id}/cancel"
    refused = post(client, path, {"reason": ""})
    assert refused.status_code == 422 and "Please give a reason" in refused.get_data(as_text=True)
    assert post(client, path, {"reason": "Der Raum ist nicht verfügbar."}).status_code == 302
    with app.app_context():
        assert db.session.get(Session, session_id).status == "cancelled"
        message = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.SESSION_CANCEL))
        assert message.facts["reason"] == "Der Raum ist nicht verfügbar."


def test_cancelling_the_seminar_uses_the_scheduling_service(app, office, client):
    with app.app_context():
        seminar = make_seminar()
        make_registration(seminar)
        db.session.commit()
        seminar_id = seminar.id
    assert post(client, f"/admin/seminars/{seminar_id}/cancel", {"reason": "Zu wenige Anmeldungen."}).status_code == 302
    assert only_seminar(app).status == SeminarStatus.CANCELLED
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
            OutboxMessage.kind == MessageKind.SEMINAR_CANCELLED)) == 1


def test_run_it_again_copies_everything_but_dates_and_registrations(app, office, client):
    with app.app_context():
        seminar = make_seminar(title="Vereinsrecht", max_per_association=2)
        make_registration(seminar)
        db.session.commit()
        seminar_id = seminar.id
        starts = [s.starts_at for s in seminar.sessions]
    assert post(client, f"/admin/seminars/{seminar_id}/duplicate", {"weeks": "0"}).status_code == 422
    assert post(client, f"/admin/seminars/{seminar_id}/duplicate", {"weeks": "52"}).status_code == 302
    with app.app_context():
        copy = db.session.scalars(db.select(Seminar).order_by(Seminar.id.desc())).first()
        assert copy.id != seminar_id and copy.status == SeminarStatus.DRAFT
        assert (copy.title, copy.max_per_association) == ("Vereinsrecht", 2)
        assert [s.starts_at for s in copy.sessions] == [s + timedelta(weeks=52) for s in starts]
        assert db.session.scalar(db.select(db.func.count(Registration.id)).where(
            Registration.seminar_id == copy.id)) == 0


def test_only_a_draft_without_registrations_is_deleted(app, office, client):
    with app.app_context():
        draft = make_seminar(status=SeminarStatus.DRAFT)
        published = make_seminar()
        make_registration(published)
        db.session.commit()
        draft_id, published_id = draft.id, published.id
    refused = post(client, f"/admin/seminars/{published_id}/delete", {})
    assert refused.status_code == 302
    assert "Only a draft can be deleted" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert post(client, f"/admin/seminars/{draft_id}/delete", {}).status_code == 302
    with app.app_context():
        assert db.session.get(Seminar, draft_id) is None and db.session.get(Seminar, published_id) is not None


# --- topics ------------------------------------------------------------------------------------

def test_topics_are_added_renamed_and_deleted_only_when_unused(app, office, staff, client):
    assert post(client, "/admin/topics", {"name": "Digitales"}).status_code == 302
    duplicate = post(client, "/admin/topics", {"name": "digitales"})
    assert duplicate.status_code == 422 and "already a topic with this name" in duplicate.get_data(as_text=True)
    with app.app_context():
        make_seminar(topic=db.session.get(Topic, staff["topic_id"]))
        digital = db.session.scalar(db.select(Topic).where(Topic.name == "Digitales"))
        db.session.commit()
        digital_id = digital.id
    assert post(client, f"/admin/topics/{digital_id}/rename", {"name": "Digitale Vereinsarbeit"},
                page="/admin/topics").status_code == 302
    in_use = post(client, f"/admin/topics/{staff['topic_id']}/delete", {}, page="/admin/topics")
    assert in_use.status_code == 409 and "used by 1 seminars and cannot be deleted" in in_use.get_data(as_text=True)
    assert post(client, f"/admin/topics/{digital_id}/delete", {}, page="/admin/topics").status_code == 302
    with app.app_context():
        assert [t.name for t in db.session.scalars(db.select(Topic))] == ["Vereinsrecht"]


# --- who may do what ---------------------------------------------------------------------------

def test_a_trainer_sees_their_seminars_and_changes_nothing(app, staff):
    with app.app_context():
        own = make_seminar(title="Öffentlichkeitsarbeit", trainer_user_id=staff["trainer_id"])
        other = make_seminar(title="Vereinsfinanzen")
        db.session.commit()
        own_id, other_id, session_id = own.id, other.id, own.sessions[0].id
    trainer = log_in(app.test_client(), "trainerin@stadt.example")
    listing = trainer.get("/admin/seminars").get_data(as_text=True)
    assert "Öffentlichkeitsarbeit" in listing and "Vereinsfinanzen" not in listing
    own_page = trainer.get(f"/admin/seminars/{own_id}").get_data(as_text=True)
    assert "Öffentlichkeitsarbeit" in own_page and "Edit seminar" not in own_page
    assert trainer.get(f"/admin/seminars/{other_id}").status_code == 403
    token = csrf_token(trainer, f"/admin/seminars/{own_id}")
    for path in (f"/admin/seminars/{own_id}/edit", f"/admin/seminars/{own_id}/publish",
                 f"/admin/seminars/{own_id}/cancel", f"/admin/seminars/{own_id}/sessions/{session_id}/cancel",
                 f"/admin/seminars/{own_id}/duplicate", f"/admin/seminars/{own_id}/delete", "/admin/seminars/new",
                 "/admin/topics", f"/admin/topics/{staff['topic_id']}/rename"):
        assert trainer.post(path, data={"csrf_token": token, "reason": "x", "name": "x"}).status_code == 403, path
        assert trainer.get(path).status_code in (403, 405), path
    assert trainer.get(f"/admin/seminars/{own_id}/preview").status_code == 403


def test_change_session_refuses_the_past_for_every_caller(app_ctx):
    seminar = make_seminar()
    session = seminar.sessions[0]
    with pytest.raises(scheduling.ScheduleChangeRefused) as refused:
        scheduling.change_session(session, starts_at=now() - timedelta(days=2), ends_at=now() - timedelta(days=2, hours=-2))
    assert str(refused.value.message) == "A session cannot be moved into the past."


def test_dates_are_entered_in_the_office_time_zone(app, office, staff, client):
    post(client, "/admin/seminars/new", seminar_data(staff["topic_id"], **{"sessions-0-day": "2031-07-01",
                                                                              "sessions-1-day": "2031-12-01"}))
    seminar = only_seminar(app)
    summer, winter = seminar.sessions[0].starts_at, seminar.sessions[1].starts_at
    assert (summer.hour, winter.hour) == (16, 17)  # 18:00 in Berlin is 16:00 UTC in summer, 17:00 in winter
    assert summer.astimezone(BERLIN).replace(tzinfo=None) == datetime(2031, 7, 1, 18, 0)


def test_the_office_says_whether_interpreting_can_be_arranged(app, office, staff, client):
    assert post(client, "/admin/seminars/new",
                seminar_data(staff["topic_id"], interpreting_available="y")).status_code == 302
    seminar = only_seminar(app)
    assert seminar.interpreting_available is True
    page = client.get(f"/admin/seminars/{seminar.id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="interpreting_available"|<input[^>]*name="interpreting_available"'
                     r'[^>]*checked', page)
    assert "Interpreting can be arranged" in client.get(f"/admin/seminars/{seminar.id}").get_data(as_text=True)
    # a copy keeps it; an unticked box clears it
    assert post(client, f"/admin/seminars/{seminar.id}/duplicate", {"weeks": "52"}).status_code == 302
    with app.app_context():
        copy = db.session.scalars(db.select(Seminar).order_by(Seminar.id.desc())).first()
        assert copy.id != seminar.id and copy.interpreting_available is True
    assert post(client, f"/admin/seminars/{seminar.id}/edit", edit_data(seminar),
                page=f"/admin/seminars/{seminar.id}/edit").status_code == 302
    assert only_seminar(app).interpreting_available is False
