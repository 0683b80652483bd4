"""The staff list (/admin/users): invite, change role, deactivate and reactivate; coordinators only."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from booking.accounts import services as accounts
from booking.accounts.models import Role, User
from booking.accounts.services import AccountRefused, create_user
from booking.audit import AuditEntry
from booking.database import utcnow
from booking.extensions import db
from booking.mail.models import MessageKind, OutboxMessage

from tests.factories import csrf_token
from tests.test_admin_access import PASSWORD, log_in, sample_url

COORDINATOR, TRAINER = "koordination@stadt.example", "trainerin@stadt.example"


@pytest.fixture
def staff(app):
    with app.app_context():
        coordinator = create_user(COORDINATOR, role=Role.COORDINATOR, display_name="Koordination", password=PASSWORD)
        other = create_user("leitung@stadt.example", role=Role.COORDINATOR, display_name="Leitung", password=PASSWORD)
        trainer = create_user(TRAINER, role=Role.TRAINER, display_name="Trainerin", password=PASSWORD)
        trainer.last_login_at = utcnow() - timedelta(days=2)
        invited = create_user("neu@stadt.example", role=Role.TRAINER, display_name="Neu Eingeladen")
        db.session.commit()
        return {"coordinator": coordinator.id, "other": other.id, "trainer": trainer.id, "invited": invited.id}


@pytest.fixture
def office(app, staff):
    client = app.test_client()
    assert log_in(client, COORDINATOR).status_code == 302
    return client


def post(client, url, page, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, page)} | data)


def user(app, user_id) -> User:
    with app.app_context():
        found = db.session.get(User, user_id)
        db.session.expunge(found)
        return found


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def test_the_list_shows_every_account_with_role_last_login_and_state(app, office, staff):
    with app.app_context():
        db.session.get(User, staff["other"]).active = False
        db.session.commit()
    page = office.get("/admin/users").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    texts = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows[1:]]
    assert texts[0].startswith("Koordination (you) koordination@stadt.example Coordinator")
    assert "Active" in texts[0]
    assert texts[1].startswith("Neu Eingeladen neu@stadt.example Trainer never Invited, no password yet")
    assert texts[2].startswith("Trainerin trainerin@stadt.example Trainer") and "never" not in texts[2]
    assert texts[3].startswith("Leitung leitung@stadt.example Coordinator") and texts[3].endswith("Deactivated")
    assert 'href="/admin/users"' in page and 'aria-current="page">Users' in page
    assert 'data-label="Last login"' in page  # a card on a phone


def test_a_trainer_gets_403_on_every_users_page_and_changes_nothing(app, staff):
    client = app.test_client()
    log_in(client, TRAINER)
    assert 'href="/admin/users"' not in client.get("/admin/").get_data(as_text=True)
    token = csrf_token(client, "/admin/password")
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin/users")]
    assert len(rules) == 7
    for rule in rules:
        url = sample_url(rule).replace("/1", f"/{staff['coordinator']}")
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            data = {"csrf_token": token, "role": "trainer", "display_name": "X", "email": "x@stadt.example"}
            response = client.open(url, method=method, data=data)
            assert response.status_code == 403, (rule.rule, method)
    coordinator = user(app, staff["coordinator"])
    assert (coordinator.role, coordinator.active) == (Role.COORDINATOR, True)
    assert count(app, User) == 4 and count(app, OutboxMessage) == 0


def test_inviting_makes_an_account_without_password_and_one_email_however_often_it_is_sent(app, office):
    data = {"display_name": "Derya Şahin", "email": "derya@stadt.example", "role": "coordinator"}
    first = post(office, "/admin/users/invite", "/admin/users/invite", **data)
    assert first.status_code == 302
    page = office.get(first.headers["Location"]).get_data(as_text=True)
    assert "Derya Şahin is invited" in page and "Invited; has not chosen a password yet." in page
    again = post(office, "/admin/users/invite", "/admin/users/invite", **data | {"email": "Derya@STADT.example"})
    assert again.status_code == 422
    assert "There is already an account with this email address." in again.get_data(as_text=True)
    with app.app_context():
        derya = db.session.scalar(db.select(User).where(User.email_key == User.key_for("derya@stadt.example")))
        assert (derya.role, derya.password_hash, derya.active) == (Role.COORDINATOR, None, True)
        messages = list(db.session.scalars(db.select(OutboxMessage)))
        assert [(m.kind, m.user_id, m.registration_id, m.recipient) for m in messages] == [
            (MessageKind.USER_INVITATION, derya.id, None, "derya@stadt.example")]
        assert db.session.scalar(db.select(AuditEntry.action).where(AuditEntry.actor_user_id.is_not(None))) \
            == "user.invited"


@pytest.mark.parametrize("data, message", [
    ({"display_name": "", "email": "a@stadt.example", "role": "trainer"}, "Please enter a name."),
    ({"display_name": "A", "email": "", "role": "trainer"}, "Please enter an email address."),
    ({"display_name": "A", "email": "kein-at-zeichen", "role": "trainer"}, "Email address:"),
    ({"display_name": "A", "email": "a@stadt.example", "role": "admin"}, "Not a valid choice."),
    ({"display_name": "x" * 201, "email": "a@stadt.example", "role": "trainer"}, "at most 200 characters"),
    ({"display_name": "https://spam.example", "email": "a@stadt.example", "role": "trainer"}, "Name:"),
])
def test_a_refused_invitation_says_why_beside_the_field_and_stores_nothing(app, office, data, message):
    response = post(office, "/admin/users/invite", "/admin/users/invite", **data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(app, User) == 4 and count(app, OutboxMessage) == 0


def test_a_coordinator_changes_a_role_and_the_page_says_so(app, office, staff):
    url = f"/admin/users/{staff['trainer']}"
    response = post(office, f"{url}/role", url, role="coordinator")
    assert response.status_code == 302 and response.headers["Location"] == url
    assert "Trainerin is now: Coordinator." in office.get(url).get_data(as_text=True)
    assert user(app, staff["trainer"]).role == Role.COORDINATOR
    # the same again changes nothing and says nothing
    assert post(office, f"{url}/role", url, role="coordinator").status_code == 302
    assert count(app, AuditEntry, AuditEntry.action == "user.role_changed") == 1
    bad = post(office, f"{url}/role", url, role="owner")
    assert bad.status_code == 422 and "Not a valid choice." in bad.get_data(as_text=True)


def test_a_deactivated_user_is_logged_out_at_once_and_cannot_log_in_until_reactivated(app, office, staff):
    trainer = app.test_client()
    log_in(trainer, TRAINER)
    assert trainer.get("/admin/").status_code == 200
    url = f"/admin/users/{staff['trainer']}"
    response = post(office, f"{url}/deactivate", url)
    assert response.status_code == 302
    assert "Trainerin is deactivated and logged out everywhere." in office.get(url).get_data(as_text=True)
    assert trainer.get("/admin/").status_code == 302
    assert log_in(app.test_client(), TRAINER).status_code == 422
    assert post(office, f"{url}/deactivate", url).status_code == 302  # a second click: no harm

    assert post(office, f"{url}/reactivate", url).status_code == 302
    assert "Trainerin can log in again." in office.get(url).get_data(as_text=True)
    assert log_in(app.test_client(), TRAINER).status_code == 302
    assert [a for a, in db_actions(app)] == ["user.deactivated", "user.reactivated"]


def db_actions(app):
    with app.app_context():
        return list(db.session.execute(db.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_nobody_deactivates_or_demotes_themselves(app, office, staff):
    url = f"/admin/users/{staff['coordinator']}"
    page = office.get(url).get_data(as_text=True)
    assert "This is your own account" in page and "/deactivate" not in page and "/role" not in page
    assert post(office, f"{url}/deactivate", url).status_code == 403
    assert post(office, f"{url}/role", url, role="trainer").status_code == 403
    me = user(app, staff["coordinator"])
    assert (me.active, me.role) == (True, Role.COORDINATOR)
    with app.app_context():
        with pytest.raises(AccountRefused, match="your own account"):
            accounts.set_active(db.session.get(User, staff["coordinator"]), False,
                                acting=db.session.get(User, staff["coordinator"]))


def test_the_last_active_coordinator_cannot_be_deactivated_or_demoted(app, staff):
    with app.app_context():
        other = db.session.get(User, staff["other"])
        trainer = db.session.get(User, staff["trainer"])
        coordinator = db.session.get(User, staff["coordinator"])
        assert accounts.set_active(other, False, acting=coordinator)
        with pytest.raises(AccountRefused, match="Koordination is the last active coordinator"):
            accounts.set_active(coordinator, False, acting=trainer)
        with pytest.raises(AccountRefused, match="last active coordinator and stays one"):
            accounts.change_role(coordinator, Role.TRAINER, acting=trainer)
        db.session.rollback()


def test_a_refused_change_is_shown_on_the_page_with_a_4xx(app, office, staff):
    url = f"/admin/users/{staff['invited']}"
    with app.app_context():
        db.session.get(User, staff["invited"]).set_password(PASSWORD)
        db.session.commit()
    response = post(office, f"{url}/invitation", url)
    assert response.status_code == 409
    assert "Neu Eingeladen has set a password already." in response.get_data(as_text=True)


def test_an_invitation_is_sent_again_once_per_moment(app, office, staff):
    url = f"/admin/users/{staff['invited']}"
    page = office.get(url).get_data(as_text=True)
    assert "Send the invitation again" in page
    first = post(office, f"{url}/invitation", url)
    second = post(office, f"{url}/invitation", url)
    assert first.status_code == second.status_code == 302
    assert "it is on its way" in office.get(url).get_data(as_text=True)
    assert count(app, OutboxMessage, OutboxMessage.kind == MessageKind.USER_INVITATION) == 1
    trainer_url = f"/admin/users/{staff['trainer']}"
    assert "Send the invitation again" not in office.get(trainer_url).get_data(as_text=True)


def test_an_unknown_user_is_404(office):
    assert office.get("/admin/users/999999").status_code == 404
    assert post(office, "/admin/users/999999/deactivate", "/admin/users").status_code == 404
