"""Demo logins for `make run`: a coordinator and a trainer, in the development configuration only."""
from __future__ import annotations

import os

import pytest

from booking import create_app, demo
from booking.accounts.models import Role, User
from booking.extensions import db
from booking.seminars.models import Seminar
from config import DevelopmentConfig, ProductionConfig, database_url

from tests.test_admin_access import log_in


def _url(tmp_path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return database_url(url) if url else f"sqlite:///{tmp_path / 'demo.sqlite'}"


@pytest.fixture
def fresh_app(tmp_path):
    made = []

    def build(config):
        app = create_app(config)
        with app.app_context():
            db.drop_all()
            db.create_all()
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def test_make_run_prints_the_demo_logins_and_they_work(fresh_app, tmp_path):
    class Development(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = _url(tmp_path)
        BOOKING_MAIL_LOG = ""

    app = fresh_app(Development)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["booking", "seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "Demo logins for the workspace at http://127.0.0.1:5000/admin/login (development only):" in first.output
    assert "coordinator  koordination@example.org     password: demo-koordination\n" in first.output
    assert "trainer      derya.sahin@example.org      password: demo-trainerin\n" in first.output

    # the second `make run` loads no seminars, makes no second account and still prints the logins
    again = runner.invoke(args=["booking", "seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "demo data not loaded" in again.output
    assert "password: demo-koordination (unless changed since)" in again.output
    with app.app_context():
        users = {u.email: u for u in db.session.scalars(db.select(User))}
        assert {email: u.role for email, u in users.items()} == {
            "koordination@example.org": Role.COORDINATOR, "derya.sahin@example.org": Role.TRAINER}
        taught = db.session.scalar(db.select(Seminar).where(Seminar.slug == demo.TRAINER_SEMINAR_SLUG))
        assert taught.trainer_user_id == users["derya.sahin@example.org"].id

    coordinator, trainer = app.test_client(), app.test_client()
    assert log_in(coordinator, "koordination@example.org", "demo-koordination").status_code == 302
    assert "Vereinsgründung Schritt für Schritt" in coordinator.get("/admin/").get_data(as_text=True)
    assert log_in(trainer, "derya.sahin@example.org", "demo-trainerin").status_code == 302
    overview = trainer.get("/admin/").get_data(as_text=True)
    assert "Vereinsgründung Schritt für Schritt" in overview and "Pressearbeit für Vereine" not in overview


def test_production_never_makes_demo_accounts(fresh_app, tmp_path):
    class Production(ProductionConfig):
        SQLALCHEMY_DATABASE_URI = _url(tmp_path)
        SECRET_KEY = "a production secret"
        BOOKING_MAIL_LOG = ""

    app = fresh_app(Production)
    assert app.config["BOOKING_DEMO_ACCOUNTS"] is False
    result = app.test_cli_runner().invoke(args=["booking", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo logins" not in result.output and "demo-koordination" not in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 0
        with pytest.raises(demo.DemoAccountsRefused):
            demo.ensure_demo_accounts()
        assert db.session.scalar(db.select(db.func.count(User.id))) == 0

