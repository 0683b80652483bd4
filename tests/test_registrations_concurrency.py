"""Capacity holds under a rush: many registrations at once, each on its own connection.

Runs on a file SQLite database, and on PostgreSQL when TEST_DATABASE_URL is set.
"""
import threading

from booking.associations.models import Association
from booking.associations.services import find_or_create_association
from booking.database import begin_write
from booking.extensions import db
from booking.registrations import services
from booking.registrations.models import Registration, RegistrationStatus
from booking.seminars.models import Seminar

from tests.factories import make_applicant, make_association, make_seminar


def run_in_threads(app, count, work):
    """Run work(i) in `count` threads that start together; each has its own app context and connection."""
    barrier = threading.Barrier(count)
    errors = []

    def target(i):
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                try:
                    begin_write()
                    work(i)
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    raise
                finally:
                    db.session.remove()
        except Exception as exc:  # collected and reported by the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a registration thread hung"
    return errors


def statuses(seminar_id):
    return list(db.session.scalars(
        db.select(Registration.status).where(Registration.seminar_id == seminar_id)))


def test_fifty_concurrent_registrations_never_exceed_capacity(app):
    with app.app_context():
        seminar_id = make_seminar(capacity=10).id
        db.session.commit()
    applicants = [make_applicant(email=f"rush{i}@example.net") for i in range(50)]

    def register(i):
        seminar = db.session.get(Seminar, seminar_id)
        services.register(seminar, applicants[i], None)

    errors = run_in_threads(app, 50, register)

    assert errors == []
    with app.app_context():
        result = statuses(seminar_id)
        assert len(result) == 50
        assert result.count(RegistrationStatus.CONFIRMED) == 10
        assert result.count(RegistrationStatus.WAITLISTED) == 40


def test_concurrent_association_maximum_and_new_association_name(app):
    """Everyone types the same new association name: one association, its maximum holds."""
    with app.app_context():
        seminar_id = make_seminar(capacity=20, max_per_association=3).id
        db.session.commit()
    applicants = [make_applicant(email=f"verein{i}@example.net") for i in range(24)]

    def register(i):
        seminar = db.session.get(Seminar, seminar_id)
        association = find_or_create_association("  Afghanischer  Kulturverein Offenbach " if i % 2
                                                 else "afghanischer kulturverein offenbach")
        services.register(seminar, applicants[i], association)

    errors = run_in_threads(app, 24, register)

    assert errors == []
    with app.app_context():
        associations = list(db.session.scalars(db.select(Association)))
        assert [a.name for a in associations] == ["Afghanischer Kulturverein Offenbach"] or \
            [a.name for a in associations] == ["afghanischer kulturverein offenbach"]
        result = statuses(seminar_id)
        assert len(result) == 24
        assert result.count(RegistrationStatus.CONFIRMED) == 3


def test_concurrent_cancellations_promote_each_waiting_person_once(app):
    with app.app_context():
        seminar = make_seminar(capacity=5)
        holders = [services.register(seminar, make_applicant(), None) for _ in range(5)]
        waiting = [services.register(seminar, make_applicant(), make_association()) for _ in range(10)]
        holder_ids = [r.id for r in holders]
        waiting_ids = [r.id for r in waiting]
        seminar_id = seminar.id
        db.session.commit()

    def cancel(i):
        services.cancel_registration(db.session.get(Registration, holder_ids[i]))

    errors = run_in_threads(app, 5, cancel)

    assert errors == []
    with app.app_context():
        result = statuses(seminar_id)
        assert result.count(RegistrationStatus.CONFIRMED) == 5
        promoted = [db.session.get(Registration, rid).status for rid in waiting_ids]
        # the first five on the waiting list, in registration order
        assert promoted == [RegistrationStatus.CONFIRMED] * 5 + [RegistrationStatus.WAITLISTED] * 5


def test_a_registration_waiting_for_the_lock_decides_on_what_the_holder_committed(app):
    """The coordinator cancels the only session while someone registers: the registration that
    waited for the seminar's lock sees the cancelled session and is refused, though it had read the
    seminar (with its session scheduled) before. On PostgreSQL a statement that waited for a lock
    reads other rows as they were when it began, so the state is read again after the lock."""
    import time

    from booking.seminars.models import SessionStatus

    with app.app_context():
        seminar_id = make_seminar(sessions=1, capacity=5).id
        db.session.commit()
    locked, outcome = threading.Event(), []

    def coordinator():
        with app.app_context():
            try:
                begin_write()
                seminar = services.lock_seminar(db.session.get(Seminar, seminar_id))
                seminar.sessions[0].status = SessionStatus.CANCELLED
                db.session.flush()
                locked.set()
                time.sleep(0.5)  # the registration below reads the seminar and waits for the lock meanwhile
                db.session.commit()
            finally:
                locked.set()
                db.session.remove()

    def participant():
        with app.app_context():
            try:
                locked.wait(timeout=30)
                begin_write()  # (SQLite: waits here for the coordinator's commit, the single writer)
                seminar = db.session.get(Seminar, seminar_id)
                assert seminar.sessions[0].status == SessionStatus.SCHEDULED or app.config[
                    "SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
                services.register(seminar, make_applicant(email="late@example.net"), None)
                db.session.commit()
                outcome.append("registered")
            except services.RegistrationClosed as closed:
                db.session.rollback()
                outcome.append(closed.reason)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=coordinator), threading.Thread(target=participant)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcome == [services.ClosedReason.OVER]
    with app.app_context():
        assert statuses(seminar_id) == []
