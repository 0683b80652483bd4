"""Factories with sensible defaults: make_seminar(capacity=3), make_registration(seminar, email=...)."""
from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta, timezone

from booking.associations.models import Association, association_name_key
from booking.extensions import db
from booking.registrations import services as registrations
from booking.registrations.models import Registration
from booking.seminars.models import Seminar, SeminarStatus, Session, Topic

_counter = itertools.count(1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def now() -> datetime:
    return datetime.now(timezone.utc)


def make_topic(**overrides) -> Topic:
    n = next(_counter)
    values = {"slug": f"topic-{n}", "name": f"Topic {n}"} | overrides
    topic = db.session.scalar(db.select(Topic).where(Topic.slug == values["slug"]))
    if topic is None:
        topic = Topic(**values)
        db.session.add(topic)
        db.session.flush()
    return topic


def make_seminar(sessions: int | list[tuple[datetime, datetime]] = 2, **overrides) -> Seminar:
    """A published seminar with `sessions` future sessions (or the given (start, end) pairs)."""
    n = next(_counter)
    if "topic" not in overrides:
        overrides["topic"] = make_topic()
    values = {
        "slug": f"seminar-{n}",
        "title": f"Seminar {n}",
        "summary": "What an association board needs to know.",
        "description": "Three evenings on the essentials.",
        "languages": "de",
        "trainer": "Ayşe Demir",
        "venue_name": "Haus der Vereine",
        "venue_address": "Bieberer Straße 1, 63065 Offenbach am Main",
        "capacity": 10,
        "status": SeminarStatus.PUBLISHED,
    } | overrides
    seminar = Seminar(**values)
    if isinstance(sessions, int):
        start = now().replace(hour=17, minute=0, second=0, microsecond=0) + timedelta(days=7)
        sessions = [(start + timedelta(days=7 * i), start + timedelta(days=7 * i, hours=2, minutes=30))
                    for i in range(sessions)]
    for starts_at, ends_at in sessions:
        seminar.sessions.append(Session(starts_at=starts_at, ends_at=ends_at))
    db.session.add(seminar)
    db.session.flush()
    return seminar


def make_association(name: str | None = None, **overrides) -> Association:
    name = name or f"Verein {next(_counter)}"
    association = Association(name=name, name_key=association_name_key(name), **overrides)
    db.session.add(association)
    db.session.flush()
    return association


def make_applicant(**overrides) -> registrations.Applicant:
    n = next(_counter)
    values = {"first_name": "Leyla", "last_name": f"Yılmaz {n}", "email": f"person{n}@example.net",
              "preferred_language": "en"} | overrides
    return registrations.Applicant(**values)


def make_registration(seminar: Seminar, association: Association | None = None, **overrides) -> Registration:
    """Register one person through the real service (rules included) and flush."""
    return registrations.register(seminar, make_applicant(**overrides), association)


def csrf_token(client, path: str) -> str:
    """Fetch a page with a form and return its CSRF token, as a browser would have it."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)
