"""The door of the workspace: accounts, login, idle sessions, and who may open which page."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from booking.accounts.models import Role, User
from booking.accounts.services import create_user
from booking.audit import AuditEntry
from booking.extensions import db
from booking.mail.models import MessageStatus, OutboxMessage
from booking.registrations import services as registrations

from tests.factories import csrf_token, make_registration, make_seminar

PASSWORD = "ein langes Passwort"
# Pages of the workspace that must answer a visitor who is not logged in.
OPEN_TO_ANONYMOUS = {"accounts.login", "accounts.forgot_password", "accounts.reset_password",
                     "accounts.accept_invitation"}


@pytest.fixture
def staff(app):
    with app.app_context():
        coordinator = create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                                  password=PASSWORD)
        trainer = create_user("trainerin@stadt.example", role=Role.TRAINER, display_name="Trainerin",
                              password=PASSWORD)
        db.session.commit()
        return {"coordinator": coordinator.email, "trainer": trainer.email, "trainer_id": trainer.id}


def log_in(client, email, password=PASSWORD, next_path=None):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/admin/login")}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/admin/login", data=data)


def admin_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]


def sample_url(rule) -> str:
    """The rule with every argument filled in (the access check comes before any lookup)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: "1", rule.rule)


def test_no_workspace_page_answers_an_anonymous_visitor_with_content(app, client, staff):
    rules = [rule for rule in admin_rules(app) if rule.endpoint not in OPEN_TO_ANONYMOUS]
    assert rules, "the workspace has routes"
    for rule in rules:
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            response = client.open(sample_url(rule), method=method, data={})
            assert response.status_code in (302, 400, 401, 403), (rule.rule, method, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/admin/login"), rule.rule
            assert "Overview" not in response.get_data(as_text=True)


def test_login_leads_to_the_overview_and_logout_ends_it(client, staff):
    response = log_in(client, staff["coordinator"])
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    overview = client.get("/admin/")
    page = overview.get_data(as_text=True)
    assert "<h1>Overview</h1>" in page and "Koordination" in page
    assert overview.headers["Cache-Control"] == "no-store"
    logout = client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert logout.status_code == 302
    assert client.get("/admin/").headers["Location"].startswith("/admin/login")


@pytest.mark.parametrize("email, password", [("koordination@stadt.example", "falsch falsch falsch"),
                                             ("niemand@stadt.example", PASSWORD)])
def test_a_failed_login_never_says_whether_the_address_exists(client, staff, email, password):
    response = log_in(client, email, password)
    assert response.status_code == 422
    assert "The email address or the password is not right." in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_an_inactive_account_cannot_log_in(app, client, staff):
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == staff["coordinator"]))
        user.active = False
        db.session.commit()
    assert log_in(client, staff["coordinator"]).status_code == 422


def test_after_login_the_user_returns_to_the_page_asked_for(client, staff):
    asked = client.get("/admin/?tab=week")
    assert asked.headers["Location"] == "/admin/login?next=/admin/?tab%3Dweek"
    response = log_in(client, staff["coordinator"], next_path="/admin/?tab=week")
    assert response.headers["Location"] == "/admin/?tab=week"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example",
                                    "javascript:alert(1)", "evil.example", "\\\\evil.example"])
def test_after_login_the_user_is_never_sent_off_site(client, staff, target):
    response = log_in(client, staff["coordinator"], next_path=target)
    assert response.status_code == 302
    # resolved as a browser does, the address stays on this site
    location = urljoin("http://localhost/admin/login", response.headers["Location"].replace("\\", "/"))
    assert urlsplit(location).netloc == "localhost", response.headers["Location"]


def test_an_idle_session_ends(app, client, staff):
    log_in(client, staff["coordinator"])
    assert client.get("/admin/").status_code == 200
    with client.session_transaction() as session:
        session["admin_seen_at"] -= app.config["BOOKING_ADMIN_IDLE_MINUTES"] * 60 + 1
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "you were logged out after 120 minutes without activity" in page
    assert client.get("/admin/").status_code == 302


def test_changing_the_password_logs_out_other_devices(app, staff):
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, staff["coordinator"])
    log_in(phone, staff["coordinator"])
    new = "ein anderes langes Passwort"
    response = laptop.post("/admin/password", data={
        "current_password": PASSWORD, "new_password": new, "repeat_password": new,
        "csrf_token": csrf_token(laptop, "/admin/password")})
    assert response.status_code == 302
    assert laptop.get("/admin/").status_code == 200
    assert phone.get("/admin/").status_code == 302
    assert log_in(app.test_client(), staff["coordinator"], new).status_code == 302


@pytest.mark.parametrize("current, new, repeat, message", [
    ("wrong wrong wrong", "ein neues Passwort", "ein neues Passwort", "This is not your current password."),
    (PASSWORD, "kurz", "kurz", "Please use at least 10 characters."),
    (PASSWORD, "ein neues Passwort", "ein anderes Passwort", "The two passwords differ."),
])
def test_a_refused_password_change_says_why_beside_the_field(client, staff, current, new, repeat, message):
    log_in(client, staff["coordinator"])
    response = client.post("/admin/password", data={
        "current_password": current, "new_password": new, "repeat_password": repeat,
        "csrf_token": csrf_token(client, "/admin/password")})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_passwords_are_stored_as_scrypt_hashes(app, staff):
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == staff["coordinator"]))
        assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash


def test_production_hashes_passwords_with_scrypt_at_full_strength(app):
    """The suite hashes with less work (TestingConfig); an office's server with werkzeug's full scrypt."""
    from config import ProductionConfig

    assert ProductionConfig.BOOKING_PASSWORD_HASH_METHOD == "scrypt"
    app.config["BOOKING_PASSWORD_HASH_METHOD"] = ProductionConfig.BOOKING_PASSWORD_HASH_METHOD
    with app.app_context():
        user = User(email="someone@example.org", role=Role.TRAINER)
        user.set_password(PASSWORD)
        assert user.password_hash.startswith("scrypt:32768:8:1$")
        assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")


# --- the overview -------------------------------------------------------------------------------

def test_the_overview_shows_fill_waiting_list_and_emails_that_need_attention(app, client, staff):
    with app.app_context():
        seminar = make_seminar(title="Vereinsrecht", capacity=1)
        make_registration(seminar, first_name="Leyla")
        make_registration(seminar, first_name="Ahmet")
        make_seminar(title="Öffentlichkeitsarbeit", trainer_user_id=staff["trainer_id"])
        db.session.flush()
        failed = db.session.scalars(db.select(OutboxMessage)).first()
        failed.status = MessageStatus.FAILED
        db.session.commit()
    log_in(client, staff["coordinator"])
    page = client.get("/admin/").get_data(as_text=True)
    assert "Vereinsrecht" in page and "Öffentlichkeitsarbeit" in page
    assert "1 of 1" in page
    assert "1 email could not be delivered." in page
    assert "Leyla Yılmaz" in page


def test_a_trainer_sees_only_their_own_seminars_and_no_email_figures(app, client, staff):
    with app.app_context():
        make_seminar(title="Vereinsrecht")
        make_seminar(title="Öffentlichkeitsarbeit", trainer_user_id=staff["trainer_id"])
        db.session.commit()
    log_in(client, staff["trainer"])
    page = client.get("/admin/").get_data(as_text=True)
    assert "Öffentlichkeitsarbeit" in page and "Vereinsrecht" not in page
    assert "could not be delivered" not in page


# --- the command line ---------------------------------------------------------------------------

def test_create_user_asks_for_the_password_twice(app):
    result = app.test_cli_runner().invoke(
        args=["booking", "create-user", "Neu@Stadt.example", "--role", "trainer", "--name", "Neue Trainerin"],
        input="ein langes Passwort\nein langes Passwort\n")
    assert result.exit_code == 0, result.output
    assert "Created trainer Neu@stadt.example" in result.output
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert (user.display_name, user.role, user.check_password("ein langes Passwort")) == \
            ("Neue Trainerin", Role.TRAINER, True)


def test_create_user_reads_the_password_once_from_stdin_and_refuses_what_will_not_do(app):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["booking", "create-user", "a@stadt.example", "--role", "coordinator", "--password-stdin"],
                       input="ein langes Passwort\n")
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(args=["booking", "create-user", "A@STADT.example", "--role", "coordinator",
                                "--password-stdin"], input="ein langes Passwort\n")
    assert again.exit_code == 1 and "There is already an account with this email address." in again.output
    short = runner.invoke(args=["booking", "create-user", "b@stadt.example", "--role", "coordinator",
                                "--password-stdin"], input="kurz\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1


# --- the audit log ------------------------------------------------------------------------------

def test_who_did_what_is_recorded(app, client):
    with app.app_context():
        seminar = make_seminar(capacity=1)
        first = make_registration(seminar)
        second = make_registration(seminar)
        db.session.commit()
        token = registrations.manage_token(first)
        first_id, second_id = first.id, second.id
    response = client.post(f"/registrations/{token}/cancel",
                           data={"csrf_token": csrf_token(client, f"/registrations/{token}/cancel")})
    assert response.status_code == 302
    with app.app_context():
        entries = [(e.action, e.actor_kind, e.registration_id)
                   for e in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))]
    assert entries == [("registration.created", "system", first_id), ("registration.created", "system", second_id),
                       ("registration.cancelled", "participant", first_id),
                       ("registration.promoted", "participant", second_id)]
