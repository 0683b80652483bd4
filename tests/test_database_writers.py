"""Writers taking turns: a registration form's checks run beside another writer, a writer waits
for the one before it and goes on at its COMMIT, and the decision is made on what that one committed.

Runs on a file SQLite database, and on PostgreSQL when TEST_DATABASE_URL is set (where the
seminar's row lock orders the writers, and nothing waits before its statements).
"""
import threading

from sqlalchemy import event

from booking.database import begin_write
from booking.extensions import db
from booking.registrations import services
from booking.registrations.models import Registration, RegistrationStatus
from booking.seminars.models import Seminar

from tests.factories import csrf_token, make_applicant, make_association, make_seminar


def seeded_seminar(app, capacity):
    with app.app_context():
        seminar = make_seminar(capacity=capacity, slug="vereinsrecht")
        association_id = make_association("Deutsch-Türkischer Kulturverein").id
        db.session.commit()
        return seminar.id, association_id


def stored(app):
    with app.app_context():
        return db.session.execute(
            db.select(Registration.email, Registration.status).order_by(Registration.id)).all()


def form(client, association_id, **overrides):
    data = {"csrf_token": csrf_token(client, "/seminars/vereinsrecht"), "first_name": "Leyla",
            "last_name": "Yılmaz", "email": "leyla@example.net", "phone": "", "association_id": str(association_id),
            "new_association": "", "preferred_language": "de", "needs": "", "consent": "y"}
    return data | overrides


class Holder(threading.Thread):
    """Another writer: registers someone for the seminar under its lock and holds it, uncommitted,
    until `release` is set (or `hold` seconds have passed), then commits."""

    def __init__(self, app, seminar_id, *, hold: float, before_commit=lambda: None):
        super().__init__(daemon=True)  # (should a turn never be given back, the test fails, not hangs)
        self.app, self.seminar_id, self.hold, self.before_commit = app, seminar_id, hold, before_commit
        self.holding, self.release, self.committing = threading.Event(), threading.Event(), threading.Event()
        self.errors = []

    def run(self):
        with self.app.app_context():
            try:
                begin_write()
                seminar = services.lock_seminar(db.session.get(Seminar, self.seminar_id))
                services.register(seminar, make_applicant(email="first@example.net"), None)
                db.session.flush()
                self.holding.set()
                self.release.wait(timeout=self.hold)
                self.committing.set()
                self.before_commit()
                db.session.commit()
            except Exception as exc:  # reported by the test
                self.errors.append(repr(exc))
                db.session.rollback()
            finally:
                self.holding.set()
                db.session.remove()


def test_a_form_with_a_mistake_is_answered_while_another_writer_holds_the_seminar(app, client):
    """The form's checks take no lock: someone who mistyped their address hears so at once, even in
    a rush (on SQLite the single write lock is taken only to register, not for the checks)."""
    seminar_id, association_id = seeded_seminar(app, capacity=5)
    data = form(client, association_id, email="leyla-at-example.net")
    holder = Holder(app, seminar_id, hold=10)
    holder.start()
    try:
        assert holder.holding.wait(timeout=30)
        response = client.post("/seminars/vereinsrecht/register", data=data)
        answered_while_held = not holder.committing.is_set()
    finally:
        holder.release.set()
        holder.join(timeout=60)

    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert answered_while_held, "the form with a mistake waited for the other writer's COMMIT"
    assert holder.errors == []
    assert stored(app) == [("first@example.net", RegistrationStatus.CONFIRMED)]


def test_a_registration_posted_while_another_takes_the_last_place_waits_and_is_put_on_the_waiting_list(app, client):
    """The form is read and checked while the other writer holds the last place uncommitted (it
    still looks free then); the decision is made under the lock, on what the other committed."""
    seminar_id, association_id = seeded_seminar(app, capacity=1)
    data = form(client, association_id)
    holder = Holder(app, seminar_id, hold=0.5)
    holder.start()
    try:
        assert holder.holding.wait(timeout=30)
        response = client.post("/seminars/vereinsrecht/register", data=data)
    finally:
        holder.release.set()
        holder.join(timeout=60)

    assert holder.errors == []
    assert response.status_code == 302
    assert stored(app) == [("first@example.net", RegistrationStatus.CONFIRMED),
                    ("leyla@example.net", RegistrationStatus.WAITLISTED)]


def test_a_second_writer_waits_for_the_first_and_goes_on_at_its_commit(app):
    """SQLite: the second writer waits for its turn before its BEGIN IMMEDIATE and sends it only
    after the first writer's COMMIT (SQLite itself would leave it polling, asleep while the lock
    lies free). PostgreSQL: the second writer's lock statement is sent at once and waits in the
    server. The first writer commits once the second has sent its lock, or after a second."""
    seminar_id, _ = seeded_seminar(app, capacity=5)
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    steps, lock = [], threading.Lock()

    def note(what):
        step = (threading.current_thread().name, what)
        with lock:
            if step not in steps:  # (PostgreSQL: register() takes the lock the test took already again)
                steps.append(step)

    def is_lock(statement):
        return statement.startswith("BEGIN IMMEDIATE") if sqlite else statement.rstrip().endswith("FOR UPDATE")

    def before(conn, cursor, statement, parameters, context, executemany):
        if is_lock(statement):
            note("lock sent")
            if threading.current_thread().name == "second":
                first.release.set()  # (on SQLite only a second writer that did not wait gets here early)

    def after(conn, cursor, statement, parameters, context, executemany):
        if is_lock(statement):
            note("lock taken")

    first = Holder(app, seminar_id, hold=1, before_commit=lambda: note("COMMIT"))
    first.name = "first"
    errors = []

    def second_writer():
        with app.app_context():
            try:
                assert first.holding.wait(timeout=30)
                begin_write()
                seminar = services.lock_seminar(db.session.get(Seminar, seminar_id))
                services.register(seminar, make_applicant(email="second@example.net"), None)
                db.session.commit()
            except Exception as exc:  # reported below
                errors.append(repr(exc))
                db.session.rollback()
            finally:
                db.session.remove()

    second = threading.Thread(target=second_writer, name="second", daemon=True)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        first.start()
        assert first.holding.wait(timeout=30)
        second.start()
        second.join(timeout=60)
        first.join(timeout=60)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)

    assert errors == [] and first.errors == []
    if sqlite:
        assert steps == [("first", "lock sent"), ("first", "lock taken"), ("first", "COMMIT"),
                         ("second", "lock sent"), ("second", "lock taken")]
    else:
        assert steps == [("first", "lock sent"), ("first", "lock taken"), ("second", "lock sent"),
                         ("first", "COMMIT"), ("second", "lock taken")]
    assert stored(app) == [("first@example.net", RegistrationStatus.CONFIRMED),
                        ("second@example.net", RegistrationStatus.CONFIRMED)]


def test_a_writer_that_failed_gives_its_turn_back(app):
    """A request that fails half-way (here: a statement the database refuses) is rolled back when its
    session is removed, as Flask's teardown does; the next writer, in another thread, goes on."""
    seminar_id, _ = seeded_seminar(app, capacity=5)
    failed, errors = [], []

    def failing_writer():
        with app.app_context():
            begin_write()
            try:
                db.session.execute(db.text("INSERT INTO no_such_table VALUES (1)"))
            except Exception as exc:  # the statement is refused; the teardown below rolls back
                failed.append(type(exc).__name__)
            finally:
                db.session.remove()

    def next_writer():
        with app.app_context():
            try:
                begin_write()
                services.register(db.session.get(Seminar, seminar_id), make_applicant(email="next@example.net"), None)
                db.session.commit()
            except Exception as exc:  # reported below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    first = threading.Thread(target=failing_writer, daemon=True)
    first.start()
    first.join(timeout=30)
    second = threading.Thread(target=next_writer, daemon=True)
    second.start()
    second.join(timeout=30)

    assert len(failed) == 1
    assert not second.is_alive(), "the next writer still waits for the failed one's turn"
    assert errors == []
    assert stored(app) == [("next@example.net", RegistrationStatus.CONFIRMED)]


def test_writers_in_threads_that_end_leave_no_file_open(app):
    """Each thread that writes waits for its turn through a file of its own: it is closed with the thread."""
    import gc
    import os

    with app.app_context():
        db.session.remove()

    def writer():
        with app.app_context():
            begin_write()
            db.session.commit()
            db.session.remove()

    def open_files():
        gc.collect()
        return len(os.listdir("/proc/self/fd"))

    writer()  # the pool's connection is made before counting
    before = open_files()
    for _ in range(30):
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        thread.join(timeout=30)
    assert open_files() <= before + 1
