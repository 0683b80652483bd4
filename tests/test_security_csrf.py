"""Every POST route refuses a request without a valid CSRF token, and stores nothing.

The test walks the URL map: a POST route it does not know fails it, so a new route gets covered
when it is added (put it in ROUTES with real objects and plausible form data).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest
from flask import url_for

from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.accounts.links import LinkPurpose, make_link_token
from booking.accounts.services import create_user
from booking.database import utcnow
from booking.extensions import db
from booking.mail.models import MessageStatus, OutboxMessage
from booking.registrations import services as registrations

from tests.factories import (
    csrf_token,
    make_applicant,
    make_association,
    make_registration,
    make_seminar,
    make_topic,
)

FORM_EXPIRED = "For your security this form has expired"  # forms that check their token themselves (422)
CSRF_PAGE = "The form could not be sent"  # CSRFProtect's refusal page (400)


@dataclass
class Route:
    url_args: Callable[[dict], dict]
    data: dict | Callable[[dict], dict]  # or made from the objects (an id to choose, say)
    refusal: tuple[int, str]
    page: Callable[[dict], str] | None = None  # where a browser gets the form (for the control with a token)
    logged_in: bool = False  # a workspace route: the control logs in first
    stores: bool = True  # the control with a token changes the database


STAFF_EMAIL, STAFF_PASSWORD = "koordination@stadt.example", "ein langes Passwort"


PERSON = {"first_name": "Leyla", "last_name": "Yılmaz", "email": "leyla.neu@example.net", "preferred_language": "de",
          "new_association": "Kulturverein", "consent": "y"}
GROUP = {"new_association": "Kulturverein", "participants-0-first_name": "Gül", "participants-0-last_name": "Aydın",
         "participants-0-email": "gul@example.net", "participants-0-preferred_language": "tr", "consent": "y"}

ROUTES: dict[str, Route] = {
    "accounts.login": Route(lambda o: {}, {"email": STAFF_EMAIL, "password": STAFF_PASSWORD}, (400, CSRF_PAGE)),
    "accounts.logout": Route(lambda o: {}, {}, (400, CSRF_PAGE), page=lambda o: "/admin/", logged_in=True,
                             stores=False),
    # the same password again: its hash (salted) changes all the same
    "accounts.change_password": Route(
        lambda o: {}, {"current_password": STAFF_PASSWORD, "new_password": STAFF_PASSWORD,
                       "repeat_password": STAFF_PASSWORD}, (400, CSRF_PAGE), logged_in=True),
    "accounts.forgot_password": Route(lambda o: {}, {"email": STAFF_EMAIL}, (400, CSRF_PAGE)),
    "accounts.reset_password": Route(
        lambda o: {"token": o["reset_token"]}, {"new_password": "ein neues Passwort", "repeat_password": "ein neues Passwort"},
        (400, CSRF_PAGE)),
    "accounts.accept_invitation": Route(
        lambda o: {"token": o["invitation_token"]},
        {"new_password": "ein neues Passwort", "repeat_password": "ein neues Passwort"}, (400, CSRF_PAGE)),
    "admin.invite_user": Route(
        lambda o: {}, {"display_name": "Neue Trainerin", "email": "neu@stadt.example", "role": "trainer"},
        (400, CSRF_PAGE), page=lambda o: "/admin/users/invite", logged_in=True),
    "admin.change_role": Route(lambda o: {"user_id": o["trainer_id"]}, {"role": "coordinator"}, (400, CSRF_PAGE),
                               page=lambda o: f"/admin/users/{o['trainer_id']}", logged_in=True),
    "admin.deactivate_user": Route(lambda o: {"user_id": o["trainer_id"]}, {}, (400, CSRF_PAGE),
                                   page=lambda o: f"/admin/users/{o['trainer_id']}", logged_in=True),
    # already active: nothing changes, and the answer is the same redirect
    "admin.reactivate_user": Route(lambda o: {"user_id": o["invited_id"]}, {}, (400, CSRF_PAGE),
                                   page=lambda o: f"/admin/users/{o['invited_id']}", logged_in=True, stores=False),
    "admin.resend_invitation": Route(lambda o: {"user_id": o["invited_id"]}, {}, (400, CSRF_PAGE),
                                     page=lambda o: f"/admin/users/{o['invited_id']}", logged_in=True),
    "public.register": Route(
        lambda o: {"slug": o["slug"]}, PERSON, (422, FORM_EXPIRED), lambda o: f"/seminars/{o['slug']}"),
    "public.cancel": Route(
        lambda o: {"token": o["manage_token"]}, {"submit": "1"}, (400, CSRF_PAGE)),
    "public.delete_data": Route(
        lambda o: {"token": o["manage_token"]}, {"submit": "1"}, (400, CSRF_PAGE)),
    # the reminder's two links (a page with a button each), and the answer to a late place offered
    "public.confirm_coming": Route(
        lambda o: {"token": o["coming_token"]}, {"submit": "1"}, (400, CSRF_PAGE)),
    "public.release_place": Route(
        lambda o: {"token": o["release_token"]}, {"submit": "1"}, (400, CSRF_PAGE)),
    "public.answer_offer": Route(
        lambda o: {"token": o["offer_token"]}, {"accept": "1"}, (400, CSRF_PAGE),
        page=lambda o: f"/registrations/{o['offer_token']}"),
    "public.lost_link": Route(
        lambda o: {}, {"email": "leyla@example.net"}, (400, CSRF_PAGE)),
    "associations.group": Route(
        lambda o: {"slug": o["slug"]},
        GROUP | {"contact_first_name": "Aylin", "contact_last_name": "Kaya", "contact_email": "neu@verein.example",
                 "participants-0-email": "gul.other@example.net"},
        (422, FORM_EXPIRED)),
    "associations.contact_group": Route(
        lambda o: {"token": o["contact_token"], "slug": o["slug"]}, GROUP, (422, FORM_EXPIRED)),
    "admin.cancel_registration": Route(
        lambda o: {"registration_id": o["cancel_id"]}, {"note": "Der Kurs fällt für Sie aus."},
        (400, CSRF_PAGE), logged_in=True),
    "admin.promote_registration": Route(
        lambda o: {"registration_id": o["waitlisted_id"]}, {}, (400, CSRF_PAGE),
        page=lambda o: f"/admin/registrations/{o['waitlisted_id']}", logged_in=True),
    "admin.resend_emails": Route(
        lambda o: {"registration_id": o["registration_id"]}, {"key": "resendkey123"}, (400, CSRF_PAGE),
        page=lambda o: f"/admin/registrations/{o['registration_id']}", logged_in=True),
    "admin.register_by_hand": Route(
        lambda o: {"seminar_id": o["seminar_id"]},
        {"new_association": "Kulturverein", "people-0-first_name": "Gül", "people-0-last_name": "Aydın",
         "people-0-email": "gul.office@example.net", "people-0-preferred_language": "tr", "consent": "y",
         "key": "registerkey123"}, (400, CSRF_PAGE), logged_in=True),
    "admin.message_participants": Route(
        lambda o: {"seminar_id": o["seminar_id"]},
        {"audience": "confirmed", "subject": "Raum", "body": "Raum 3", "key": "messagekey123", "send": "Send",
         "expected": "2"}, (400, CSRF_PAGE), logged_in=True),
    # sorted, the control accepts "Kulturverin", merges it into "Kulturverein", renames that one
    "admin.association_accept": Route(
        lambda o: {"association_id": o["pending_id"]}, {}, (400, CSRF_PAGE),
        page=lambda o: f"/admin/associations/{o['pending_id']}", logged_in=True),
    "admin.association_merge": Route(
        lambda o: {"association_id": o["pending_id"]}, lambda o: {"into": str(o["kept_id"]), "confirm": "y"}, (400, CSRF_PAGE),
        page=lambda o: f"/admin/associations/{o['pending_id']}", logged_in=True),
    "admin.association_rename": Route(
        lambda o: {"association_id": o["kept_id"]}, {"name": "Kulturverein Offenbach"}, (400, CSRF_PAGE),
        page=lambda o: f"/admin/associations/{o['kept_id']}", logged_in=True),
    "admin.email_retry": Route(
        lambda o: {"message_id": o["message_id"]}, {}, (400, CSRF_PAGE),
        page=lambda o: f"/admin/emails/{o['message_id']}", logged_in=True),
    "associations.contact_cancel": Route(
        lambda o: {"token": o["contact_token"], "public_id": o["member_public_id"]}, {"submit": "1"},
        (400, CSRF_PAGE)),
    # the seminar pages of the workspace (booking/admin/seminars.py); `objects` makes topic 1,
    # seminar 1 (sessions 1 and 2), the draft 2 (sessions 3 and 4) then more to delete and cancel
    "admin.seminar_new": Route(lambda o: {}, {
        "title": "Vereinsfinanzen", "topic_id": "1", "languages": "de", "capacity": "12",
        "sessions-0-day": "2031-03-04", "sessions-0-starts": "18:00", "sessions-0-ends": "20:00", "save": "1"},
        (400, CSRF_PAGE), logged_in=True),
    "admin.seminar_edit": Route(lambda o: {"seminar_id": o["draft_id"]}, {
        "title": "Vereinsfinanzen 2", "topic_id": "1", "languages": "de", "capacity": "12",
        "version": "1", "sessions-0-session_id": "3", "sessions-0-day": "2031-03-04",
        "sessions-0-starts": "18:00", "sessions-0-ends": "20:00", "save": "1"},
        (400, CSRF_PAGE), logged_in=True),
    "admin.seminar_publish": Route(lambda o: {"seminar_id": o["draft_id"]}, {}, (400, CSRF_PAGE),
                                   page=lambda o: f"/admin/seminars/{o['draft_id']}", logged_in=True),
    "admin.seminar_cancel": Route(lambda o: {"seminar_id": o["doomed_id"]}, {"reason": "Die Trainerin ist krank."},
                                  (400, CSRF_PAGE), logged_in=True),
    "admin.session_cancel": Route(lambda o: {"seminar_id": o["other_id"], "session_id": o["other_session_id"]},
                                  {"reason": "Raum nicht verfügbar."}, (400, CSRF_PAGE), logged_in=True),
    "admin.seminar_duplicate": Route(lambda o: {"seminar_id": o["seminar_id"]}, {"weeks": "52"},
                                     (400, CSRF_PAGE), logged_in=True),
    "admin.seminar_delete": Route(lambda o: {"seminar_id": o["spare_draft_id"]}, {}, (400, CSRF_PAGE), logged_in=True),
    # ticking a participant on a session's attendance list (booking/admin/attendance.py)
    "admin.record_attendance": Route(
        lambda o: {"seminar_id": o["seminar_id"], "session_id": o["session_id"], "registration_id": o["registration_id"]},
        {"status": "present"}, (400, CSRF_PAGE),
        page=lambda o: f"/admin/seminars/{o['seminar_id']}/sessions/{o['session_id']}/attendance", logged_in=True),
    "admin.topics": Route(lambda o: {}, {"name": "Digitales"}, (400, CSRF_PAGE), logged_in=True),
    "admin.topic_rename": Route(lambda o: {"topic_id": o["topic_id"]}, {"name": "Vereinsrecht neu"},
                                (400, CSRF_PAGE), page=lambda o: "/admin/topics", logged_in=True),
    "admin.topic_delete": Route(lambda o: {"topic_id": o["unused_topic_id"]}, {}, (400, CSRF_PAGE),
                                page=lambda o: "/admin/topics", logged_in=True),
}


@pytest.fixture
def objects(app):
    """Real objects for every URL part: a published seminar, a manage link, a contact link, a member."""
    with app.app_context():
        seminar = make_seminar(slug="vereinsrecht", capacity=20)
        registration = make_registration(seminar, email="leyla@example.net")
        members = associations.register_group(
            seminar, ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                                    phone=None, preferred_language="de"),
            [make_applicant(first_name="Ali")], make_association("Kulturverein"))
        create_user(STAFF_EMAIL, role="coordinator", display_name="Koordination", password=STAFF_PASSWORD)
        draft = make_seminar(status="draft")
        spare_draft = make_seminar(status="draft")
        other = make_seminar()
        doomed = make_seminar()
        unused_topic = make_topic(name="Ungenutzt")
        pending = associations.find_or_create_association("Kulturverin")
        failed = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.registration_id == registration.id)).first()
        failed.status = MessageStatus.FAILED
        db.session.commit()
        # the office cancels one, and moves up one the association maximum keeps waiting
        to_cancel = make_registration(seminar, email="absage@example.net")
        full_seminar = make_seminar(capacity=2, max_per_association=1)
        make_registration(full_seminar, members[0].association, email="platz@example.net")
        waitlisted = make_registration(full_seminar, members[0].association, email="wartet@example.net")
        db.session.commit()
        reminded = make_seminar()
        coming = make_registration(reminded, email="kommt@example.net")
        releasing = make_registration(reminded, email="gibt.ab@example.net")
        # a late place: the seminar starts in 30 hours, its one place frees, the next is offered it
        late = make_seminar(sessions=[(utcnow() + timedelta(hours=30), utcnow() + timedelta(hours=32))], capacity=1)
        late_holder = make_registration(late, email="frei@example.net")
        offered = make_registration(late, email="angebot@example.net")
        registrations.cancel_registration(late_holder)
        db.session.commit()
        trainer = create_user("trainerin@stadt.example", role="trainer", display_name="Trainerin",
                              password=STAFF_PASSWORD)
        invited = create_user("eingeladen@stadt.example", role="trainer", display_name="Eingeladen")
        accepting = create_user("annimmt@stadt.example", role="trainer", display_name="Nimmt an")
        db.session.commit()
        expires = utcnow() + timedelta(hours=1)
        return {"seminar_id": seminar.id, "topic_id": seminar.topic_id, "session_id": seminar.sessions[0].id,
                "draft_id": draft.id, "draft_session_id": draft.sessions[0].id, "unused_topic_id": unused_topic.id,
                "spare_draft_id": spare_draft.id, "other_id": other.id, "other_session_id": other.sessions[0].id,
                "doomed_id": doomed.id,
                "slug": seminar.slug, "manage_token": registrations.manage_token(registration),
                "coming_token": registrations.coming_token(coming),
                "release_token": registrations.release_token(releasing),
                "offer_token": registrations.manage_token(offered),
                "registration_id": registration.id, "waitlisted_id": waitlisted.id, "cancel_id": to_cancel.id,
                "trainer_id": trainer.id, "invited_id": invited.id,
                "reset_token": make_link_token(LinkPurpose.PASSWORD_RESET, trainer, token_version=trainer.token_version,
                                               expires_at=expires),
                "invitation_token": make_link_token(LinkPurpose.INVITATION, accepting,
                                                    token_version=accepting.token_version, expires_at=expires),
                "contact_token": associations.contact_token(members[0].registered_by),
                "member_public_id": members[0].public_id, "pending_id": pending.id,
                "kept_id": members[0].association_id, "message_id": failed.id}


def snapshot() -> dict:
    """Every row of every table: nothing added, changed or removed when they compare equal."""
    return {table.name: sorted(map(repr, db.session.execute(table.select()).all()))
            for table in db.metadata.sorted_tables}


def post_routes(app):
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())})


def test_every_post_route_is_covered(app):
    routes = post_routes(app)
    unknown = [endpoint for endpoint in routes if endpoint not in ROUTES]
    assert not unknown, (f"POST routes without a CSRF check in this test: {unknown}. Add each to ROUTES "
                         "with real objects and plausible form data.")
    assert sorted(ROUTES) == routes, "ROUTES names routes that no longer exist"


@pytest.mark.parametrize("token", [None, "", "forged.token.value"], ids=["missing", "empty", "forged"])
def test_every_post_route_refuses_a_request_without_a_valid_token(app, client, objects, token):
    for endpoint in post_routes(app):
        route = ROUTES[endpoint]
        with app.test_request_context():
            url = url_for(endpoint, **route.url_args(objects))
        route_data = route.data(objects) if callable(route.data) else route.data
        data = dict(route_data) if token is None else route_data | {"csrf_token": token}
        with app.app_context():
            before = snapshot()

        response = client.post(url, data=data)

        status, text = route.refusal
        assert (endpoint, response.status_code) == (endpoint, status)
        assert text in response.get_data(as_text=True), endpoint
        with app.app_context():
            assert snapshot() == before, f"{endpoint} stored something without a valid CSRF token"


def test_the_same_requests_with_a_valid_token_go_through(app, client, objects):
    """The control: the data above is plausible, so the refusals are the token's doing."""
    for endpoint in post_routes(app):
        route = ROUTES[endpoint]
        with app.test_request_context():
            url = url_for(endpoint, **route.url_args(objects))
        page = route.page(objects) if route.page else url
        client = app.test_client()  # a browser of its own for each route (logged in or not)
        if route.logged_in:
            login = client.post("/admin/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD,
                                                      "csrf_token": csrf_token(client, "/admin/login")})
            assert login.status_code == 302
        with app.app_context():
            before = snapshot()

        route_data = route.data(objects) if callable(route.data) else route.data
        response = client.post(url, data=route_data | {"csrf_token": csrf_token(client, page)})

        assert (endpoint, response.status_code) == (endpoint, 302)
        with app.app_context():
            assert snapshot() != before or endpoint == "public.lost_link" or not route.stores, endpoint
