"""`flask booking seed-demo`: loading twice, into a database with data, and its help; each test with a
fresh database. What one load stores: tests/test_cli_demo_data.py."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func

from booking import demo
from booking.associations.models import Association
from booking.extensions import db
from booking.registrations.models import Registration
from booking.seminars.models import Seminar, Session, Topic


def seed(app, *args):
    result = app.test_cli_runner().invoke(args=["booking", "seed-demo", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {model.__name__: db.session.scalar(db.select(func.count()).select_from(model))
                for model in (Topic, Seminar, Session, Association, Registration)}


def statuses(seminar: Seminar) -> Counter:
    return Counter(db.session.scalars(
        db.select(Registration.status).where(Registration.seminar_id == seminar.id)))


def seminar(slug: str) -> Seminar:
    return db.session.scalar(db.select(Seminar).where(Seminar.slug == slug))


def test_second_run_with_if_empty_adds_nothing(app):
    seed(app, "--if-empty")
    before = counts(app)

    result = seed(app, "--if-empty")

    assert result.exit_code == 0
    assert f"already has {len(demo.SEMINARS)} seminar(s); demo data not loaded" in result.output
    assert counts(app) == before
    assert before["Seminar"] == len(demo.SEMINARS) and before["Registration"] > 40


def test_if_empty_leaves_a_database_with_other_seminars_alone(app):
    with app.app_context():
        from tests.factories import make_seminar

        make_seminar(title="Kassenführung")
        db.session.commit()
    before = counts(app)

    result = seed(app, "--if-empty")

    assert result.exit_code == 0
    assert counts(app) == before


def test_loading_twice_without_if_empty_fails_clearly_and_stores_nothing(app):
    seed(app)
    before = counts(app)

    result = seed(app)

    assert result.exit_code == 1
    assert "Demo data not loaded" in result.output and "exists already" in result.output
    assert counts(app) == before


def test_help_explains_the_command(app):
    result = app.test_cli_runner().invoke(args=["booking", "seed-demo", "--help"])

    assert result.exit_code == 0
    assert "demo data" in result.output and "--if-empty" in result.output
