"""Query budgets: the busy pages run a fixed number of SQL statements whatever the amount of data.

Each page is opened with 5 and with 200 seminars / registrations (bulk-made, as the office would
have them after a season), and the statements are counted on the engine (`before_cursor_execute`).
A count that grows with the data is an N+1: a lazy load per row. The budgets are the counts the
pages run today; a change that adds a query must raise them on purpose.

The page cache (booking/caching) is switched off here: these are the counts of a page rendered.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.associations.models import Association, AssociationContact, AssociationStatus, association_name_key
from booking.associations.services import contact_token
from booking.database import utcnow
from booking.extensions import db
from booking.registrations.models import Registration, RegistrationStatus, WaitlistReason, email_key
from booking.registrations.services import manage_token
from booking.seminars.models import Seminar, SeminarStatus, Session, Topic

from tests.test_admin_access import PASSWORD, log_in

SMALL, LARGE = 5, 200


@pytest.fixture
def app(app):
    app.config["BOOKING_PAGE_CACHE_SIZE"] = 0
    return app


def populate(n: int) -> dict:
    """n published seminars (two sessions each, a topic per ten), one of them with n registrations
    (confirmed, waitlisted, cancelled, each of its own association, half made by one contact, who
    also registered one person in every other seminar), n accepted associations."""
    coordinator = create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                              password=PASSWORD)
    topics = [Topic(slug=f"topic-{i}", name=f"Topic {i}") for i in range(n // 10 + 1)]
    db.session.add_all(topics)
    start = utcnow().replace(hour=17, minute=0, second=0, microsecond=0) + timedelta(days=3)
    seminars = []
    for i in range(n):
        first = start + timedelta(days=i % 60)
        seminar = Seminar(slug=f"seminar-{i}", title=f"Seminar {i}", topic=topics[i // 10], capacity=n,
                          languages="de tr" if i % 2 else "ar", venue_name="Haus der Vereine",
                          status=SeminarStatus.PUBLISHED, trainer="Ayşe Demir")
        seminar.sessions = [Session(starts_at=first + timedelta(days=7 * k),
                                    ends_at=first + timedelta(days=7 * k, hours=2)) for k in range(2)]
        seminars.append(seminar)
    db.session.add_all(seminars)
    associations = [Association(name=f"Verein {i}", name_key=association_name_key(f"Verein {i}"),
                                status=AssociationStatus.ACCEPTED) for i in range(n)]
    db.session.add_all(associations)
    db.session.flush()
    contact = AssociationContact(association=associations[0], first_name="Fatma", last_name="Kaya",
                                 email="vorstand@verein.example", email_key="vorstand@verein.example")
    db.session.add(contact)
    db.session.flush()
    big = seminars[0]
    big.capacity = max(n // 2, 1)
    now = utcnow()
    people = []
    for i in range(n):
        status = (RegistrationStatus.CANCELLED if i % 10 == 9 else
                  RegistrationStatus.CONFIRMED if i < n // 2 else RegistrationStatus.WAITLISTED)
        people.append(Registration(
            seminar=big, association=associations[i], first_name="Leyla", last_name=f"Yılmaz {i}",
            email=f"person{i}@example.net", email_key=email_key(f"person{i}@example.net"),
            preferred_language="en", consent_at=now, status=status, needs="Kinderbetreuung" if i % 3 == 0 else None,
            waitlist_reason=WaitlistReason.FULL if status == RegistrationStatus.WAITLISTED else None,
            registered_by_contact_id=contact.id if i % 2 == 0 else None,
            cancelled_at=now if status == RegistrationStatus.CANCELLED else None,
        ))
    for i, seminar in enumerate(seminars[1:], start=1):
        people.append(Registration(
            seminar=seminar, association=associations[0], first_name="Ahmet", last_name=f"Öztürk {i}",
            email=None, email_key=None, preferred_language="tr", consent_at=now,
            status=RegistrationStatus.CONFIRMED, registered_by_contact_id=contact.id))
    db.session.add_all(people)
    db.session.flush()
    waitlisted = next(r for r in people if r.status == RegistrationStatus.WAITLISTED)
    result = {"slug": big.slug, "seminar_id": big.id, "manage": manage_token(waitlisted),
              "contact": contact_token(contact), "coordinator": coordinator.email}
    db.session.commit()
    return result


@contextmanager
def counted_statements(app):
    """The statements sent to the database meanwhile (each request has its own session, as in production)."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


# Statements per page (BEGIN/COMMIT aside) with any amount of data: what the page reads, each once.
# Statements per page (BEGIN/COMMIT aside) with any amount of data, each page read by the logged-in
# coordinator (their user row is one of them): what the page reads, each once.
BUDGETS = {
    "catalogue": 7,  # seminars, their sessions, counts; topics, months and languages for the filters
    "catalogue filtered": 7,
    "seminar page": 5,  # seminar, sessions, counts, associations for the form
    "manage page": 6,
    "contact page": 7,  # contact, registrations, seminars, sessions, associations, waiting-list positions
    "dashboard": 10,  # seminars, sessions, counts, this week, newest, cancelled, emails, today's attendance lists
    "seminar list": 4,
    "registrations table": 9,
    "catalogue feed": 2,
}

PAGES = {
    "catalogue": lambda data: "/",
    "catalogue filtered": lambda data: "/?topic=topic-0&language=de",
    "seminar page": lambda data: f"/seminars/{data['slug']}",
    "manage page": lambda data: f"/registrations/{data['manage']}",
    "contact page": lambda data: f"/associations/contact/{data['contact']}",
    "dashboard": lambda data: "/admin/",
    "seminar list": lambda data: "/admin/seminars",
    "registrations table": lambda data: f"/admin/seminars/{data['seminar_id']}/registrations",
    "catalogue feed": lambda data: "/calendar.ics",
}


def statements_per_page(app, n: int) -> dict[str, int]:
    with app.app_context():
        data = populate(n)
    client = app.test_client()
    log_in(client, data["coordinator"])
    counts = {}
    for name, path in PAGES.items():
        client.get(path(data))  # a first visit warms what is loaded once per process
        with counted_statements(app) as statements:
            response = client.get(path(data))
        assert response.status_code == 200, (name, response.status_code)
        body = response.get_data(as_text=True)
        if name == "registrations table":
            assert body.count("Yılmaz") >= n * 9 // 10, "the table lists every registration"
        if name == "catalogue" and n == LARGE:
            assert "Seminar 199" in body
        counts[name] = len([s for s in statements if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK)", s)])
    return counts


def test_pages_run_as_many_queries_for_200_seminars_and_registrations_as_for_5(app, tmp_path):
    small = statements_per_page(app, SMALL)
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.create_all()
    large = statements_per_page(app, LARGE)
    grown = {page: (small[page], large[page]) for page in PAGES if large[page] != small[page]}
    assert not grown, f"queries grow with the data (page: (with {SMALL}, with {LARGE})): {grown}"
    over = {page: (count, BUDGETS[page]) for page, count in small.items() if count > BUDGETS[page]}
    assert not over, f"pages run more queries than their budget (page: (count, budget)): {over}"
