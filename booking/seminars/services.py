"""Reading seminars for the public catalogue; the catalogue's figures come from here."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cache
from datetime import date, datetime

from sqlalchemy import bindparam, case, func
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..formatting import to_local
from ..languages import INSTRUCTION_LANGUAGES
from ..registrations.models import Registration, RegistrationStatus
from .models import ClosedReason, Seminar, SeminarStatus, Session, SessionStatus, Topic


class Availability(enum.StrEnum):
    PLACES = "places"
    WAITLIST = "waitlist"
    CLOSED = "closed"


@dataclass
class CatalogueEntry:
    seminar: Seminar
    places_left: int
    waitlisted: int
    availability: Availability
    closed_reason: ClosedReason | None


@dataclass
class CatalogueMonth:
    month: date  # first day of the month, local time
    entries: list[CatalogueEntry] = field(default_factory=list)


@dataclass
class CatalogueFilters:
    topic: str | None = None  # topic slug
    language: str | None = None  # language code
    month: str | None = None  # "YYYY-MM"


def all_topics() -> list[Topic]:
    return list(db.session.scalars(db.select(Topic).order_by(Topic.name)))


def published_seminar_by_slug(slug: str) -> Seminar | None:
    """A seminar the public may see: published, or cancelled (so old links explain what happened);
    with its sessions, in the same statement (a registration request reads it before the lock)."""
    return db.session.scalars(_published_by_slug(), {"slug": slug}).unique().one_or_none()


@cache
def _published_by_slug():
    """published_seminar_by_slug's statement, built once (every registration request runs it)."""
    return (db.select(Seminar)
            .where(Seminar.slug == bindparam("slug"),
                   Seminar.status.in_((SeminarStatus.PUBLISHED, SeminarStatus.CANCELLED)))
            .options(joinedload(Seminar.sessions)))


# Beside the statuses in registration_counts: the waitlisted registrations holding a place with an
# open offer (booking.registrations.services, "late places"); they are counted as waitlisted too.
OPEN_OFFERS = "open_offers"


def registration_counts(seminar_ids: list[int]) -> dict[int, dict[RegistrationStatus | str, int]]:
    """{seminar id: {status: count, OPEN_OFFERS: count}} in one query."""
    counts: dict[int, dict[RegistrationStatus | str, int]] = {sid: {} for sid in seminar_ids}
    if not seminar_ids:
        return counts
    open_offer = case((Registration.offer_expires_at.is_not(None), 1), else_=0)
    rows = db.session.execute(
        db.select(Registration.seminar_id, Registration.status, func.count(Registration.id), func.sum(open_offer))
        .where(Registration.seminar_id.in_(seminar_ids))
        .group_by(Registration.seminar_id, Registration.status)
    )
    for seminar_id, status, count, with_offer in rows:
        counts[seminar_id][RegistrationStatus(status)] = count
        if status == RegistrationStatus.WAITLISTED and with_offer:
            counts[seminar_id][OPEN_OFFERS] = int(with_offer)
    return counts


def catalogue_entry(seminar: Seminar, now: datetime, counts=None, *, as_published: bool = False) -> CatalogueEntry:
    """The seminar's figures; `as_published`: as they would be once it is published (a preview)."""
    if counts is None:
        counts = registration_counts([seminar.id])[seminar.id]
    confirmed = counts.get(RegistrationStatus.CONFIRMED, 0)
    waitlisted = counts.get(RegistrationStatus.WAITLISTED, 0)
    # an open offer holds its place (booking.registrations.services.places_taken)
    places_left = max(seminar.capacity - confirmed - counts.get(OPEN_OFFERS, 0), 0)
    reason = seminar.closed_reason(now, as_published=as_published)
    if reason is not None:
        availability = Availability.CLOSED
    elif places_left > 0:
        availability = Availability.PLACES
    else:
        availability = Availability.WAITLIST
    return CatalogueEntry(seminar, places_left, waitlisted, availability, reason)


def _upcoming_seminar_ids(now: datetime):
    """Published seminars with a scheduled session still to come (a subquery)."""
    return (
        db.select(Session.seminar_id)
        .join(Session.seminar)
        .where(Seminar.status == SeminarStatus.PUBLISHED,
               Session.status == SessionStatus.SCHEDULED, Session.ends_at > now)
    )


def upcoming_catalogue(now: datetime, filters: CatalogueFilters | None = None) -> list[CatalogueMonth]:
    """Published seminars with a session still to come, by month of their first session; with a
    month filter, every seminar with a session in that month (a seminar that starts in March and
    meets again in April is found under April too)."""
    filters = filters or CatalogueFilters()
    query = (
        db.select(Seminar)
        .where(Seminar.id.in_(_upcoming_seminar_ids(now)))
        .options(selectinload(Seminar.sessions))
    )
    if filters.topic:
        query = query.join(Seminar.topic).where(Topic.slug == filters.topic)
    if filters.language:
        query = query.where((" " + Seminar.languages + " ").contains(f" {filters.language} "))
    seminars = [s for s in db.session.scalars(query) if s.first_start is not None]
    seminars.sort(key=lambda s: (s.first_start, s.title))

    counts = registration_counts([s.id for s in seminars])
    months: dict[date, CatalogueMonth] = {}
    for seminar in seminars:
        month = month_of(seminar.first_start)
        if filters.month:
            session_months = {month_of(s.starts_at) for s in seminar.scheduled_sessions}
            month = next((m for m in session_months if m.strftime("%Y-%m") == filters.month), None)
            if month is None:
                continue
        months.setdefault(month, CatalogueMonth(month)).entries.append(
            catalogue_entry(seminar, now, counts[seminar.id])
        )
    return list(months.values())


def month_of(moment: datetime) -> date:
    return to_local(moment).date().replace(day=1)


def catalogue_months(now: datetime) -> list[date]:
    """The months with a session still to come of a published seminar, for the month filter."""
    starts = db.session.scalars(
        db.select(Session.starts_at)
        .where(Session.status == SessionStatus.SCHEDULED, Session.ends_at > now,
               Session.seminar_id.in_(_upcoming_seminar_ids(now)))
    )
    return sorted({month_of(start) for start in starts})


def catalogue_languages(now: datetime) -> list[str]:
    """The languages some upcoming seminar is taught in, for the language filter, in the order
    booking.languages lists them (codes it does not know last)."""
    stored = db.session.scalars(
        db.select(Seminar.languages).distinct().where(Seminar.id.in_(_upcoming_seminar_ids(now))))
    codes = {code for languages in stored for code in languages.split()}
    order = list(INSTRUCTION_LANGUAGES)
    return sorted(codes, key=lambda code: (order.index(code) if code in order else len(order), code))
