"""The registration rules: capacity, per-association maximum, waiting list, promotion, late-place
offers, cancellation, and the "I am coming" of the reminder.

Every decision about places is taken here, under a per-seminar lock (see booking.database), so
capacity and the association maximum hold under concurrent requests. Functions flush but never
commit: the request or job that calls them commits once.

A place taken is a confirmed registration or an open offer: a place that frees up less than
BOOKING_OFFER_CUTOFF_HOURS before the first session is offered to the first person on the waiting
list who may take it, and held for them until they accept, decline, or the worker ends the offer
after its deadline (expire_offers) and passes the place on.
"""
from __future__ import annotations

import logging
from contextlib import nullcontext
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, case, func, inspect, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, privacy_notice
from ..associations.models import Association, AssociationContact
from ..database import begin_write, begin_writing, in_write_transaction, is_sqlite, utcnow
from ..extensions import db
from ..mail import outbox
from ..seminars.models import CLOSED_MESSAGES, ClosedReason, Seminar, SeminarStatus
from ..tokens import make_token, resolve_token, revoke_tokens
from .links import request_links
from .models import (
    Registration,
    RegistrationStatus,
    WaitlistReason,
    active,
    email_key,
)

log = logging.getLogger(__name__)

TOKEN_PURPOSE = "registration"
# The two one-click links of the reminder before the first session: each opens a page with a
# button (mail scanners follow links), and each does only its one thing.
COMING_TOKEN_PURPOSE = "registration-coming"
RELEASE_TOKEN_PURPOSE = "registration-release"


@dataclass
class Applicant:
    """One person to register, as entered in a form."""

    first_name: str
    last_name: str
    email: str | None  # None only for a member an association contact registers (see registered_by)
    phone: str | None = None
    preferred_language: str = "de"
    needs: str | None = None


class RegistrationRefused(Exception):
    """The registration was not stored; `message` says why, `index` names the person in a group."""

    def __init__(self, message, *, field: str | None = None, index: int | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.index = index


class RegistrationClosed(RegistrationRefused):
    def __init__(self, reason: ClosedReason):
        super().__init__(CLOSED_MESSAGES[reason])
        self.reason = reason


class DuplicateRegistration(RegistrationRefused):
    pass


# --- the lock ----------------------------------------------------------------------------------

def lock_seminar(seminar: Seminar) -> Seminar:
    """Hold the seminar's lock until the transaction ends, and reload its state under it.

    On PostgreSQL the lock is a statement of its own (SELECT ... FOR UPDATE of the id alone), and
    everything decided on is read by the statements after it: a statement that waited for a lock
    reads the other rows as they were when it began, before the transaction it waited for
    committed; the next statement sees that commit (READ COMMITTED). The seminar and its sessions
    are then read in one statement (joined). The statements are built once (_lock_statements):
    what runs under the lock is kept short.
    """
    lock, reload, _ = _lock_statements()
    parameters = {"seminar_id": seminar.id}
    _take_lock(lock, parameters)
    return db.session.scalars(reload, parameters).unique().one()


def lock_and_count(seminar: Seminar, association: Association | None,
                   emails: list[str]) -> tuple[Seminar, int, int, set[str]]:
    """lock_seminar and places_taken_and_registered in two statements: the lock, then the seminar,
    its sessions and the counts in one (a registration holds the lock from the first to its
    COMMIT, and every request for the seminar waits meanwhile)."""
    lock, _, counted_reload = _lock_statements()
    keys = {email_key(email) for email in emails if email}
    # the id from the identity: the seminar may have been expired (on SQLite begin_writing rolled
    # back the form's reading transaction), and the statement below loads it anew anyway
    parameters = {"seminar_id": inspect(seminar).identity[0],
                  "association_id": association.id if association is not None else None, "keys": sorted(keys)}
    _take_lock(lock, parameters)
    seminar, taken, by_association, registered = db.session.execute(counted_reload, parameters).unique().one()
    return seminar, taken or 0, by_association or 0, _registered_keys(seminar, registered, keys, emails)


def _take_lock(lock, parameters) -> None:
    if is_sqlite():
        if not in_write_transaction():
            # SQLite: a transaction begun as a reading one takes the single write lock with its
            # first write. Should another writer have come in between, SQLite refuses with
            # "database is locked" rather than let us decide on stale counts. (A writing request
            # began with BEGIN IMMEDIATE and holds it already.)
            db.session.execute(_take_write_lock(), parameters)
    else:
        db.session.connection().execute(lock, parameters)


@cache
def _lock_statements():
    """The lock, lock_seminar's reload and lock_and_count's reload with the counts, built on first use."""
    seminars = Seminar.__table__
    seminar_id = bindparam("seminar_id")
    return (
        db.select(seminars.c.id).where(seminars.c.id == seminar_id).with_for_update(),
        db.select(Seminar).where(Seminar.id == seminar_id).options(joinedload(Seminar.sessions))
        .execution_options(populate_existing=True),
        db.select(Seminar, *(count.scalar_subquery() for count in _places_counts()))
        .where(Seminar.id == seminar_id).options(joinedload(Seminar.sessions))
        .execution_options(populate_existing=True),
    )


@cache
def _take_write_lock():
    return (db.update(Seminar).where(Seminar.id == bindparam("seminar_id")).values(id=Seminar.id)
            .execution_options(synchronize_session=False))


# --- counts ------------------------------------------------------------------------------------

def confirmed_count(seminar: Seminar, association: Association | None = None) -> int:
    query = db.select(func.count(Registration.id)).where(
        Registration.seminar_id == seminar.id,
        Registration.status == RegistrationStatus.CONFIRMED,
    )
    if association is not None:
        query = query.where(Registration.association_id == association.id)
    return db.session.scalar(query) or 0


def holds_place():
    """SQL: the registration has a place, or an open offer holding one (Registration.has_open_offer)."""
    return or_(Registration.status == RegistrationStatus.CONFIRMED,
               and_(Registration.status == RegistrationStatus.WAITLISTED, Registration.offer_expires_at.is_not(None)))


def places_taken(seminar: Seminar, association: Association | None = None) -> int:
    """Places given and places held by an open offer: what the capacity and the association maximum count."""
    query = db.select(func.count(Registration.id)).where(Registration.seminar_id == seminar.id, holds_place())
    if association is not None:
        query = query.where(Registration.association_id == association.id)
    return db.session.scalar(query) or 0


def places_taken_with(seminar: Seminar, association: Association | None) -> tuple[int, int]:
    """places_taken(seminar) and places_taken(seminar, association) in one query (0 without an association)."""
    taken, by_association, _ = places_taken_and_registered(seminar, association, [])
    return taken, by_association


def places_taken_and_registered(seminar: Seminar, association: Association | None,
                                emails: list[str]) -> tuple[int, int, set[str]]:
    """What a registration decides on, in one query under the lock: places_taken(seminar),
    places_taken(seminar, association) (0 without one), and the keys among `emails` that have an
    active registration for the seminar (active_email_keys). The keys come out of the same count
    when there is one address (a person alone, the usual case); a group with one of its addresses
    registered already asks active_email_keys which."""
    keys = {email_key(email) for email in emails if email}
    taken, by_association, registered = db.session.execute(_places_statement(), {
        "seminar_id": seminar.id, "association_id": association.id if association is not None else None,
        "keys": sorted(keys)}).one()
    return taken or 0, by_association or 0, _registered_keys(seminar, registered, keys, emails)


def _registered_keys(seminar: Seminar, registered: int, keys: set[str], emails: list[str]) -> set[str]:
    """The keys that have an active registration, from their count: all of them when there is one
    address (a person alone, the usual case); a group with one of its addresses registered already
    asks active_email_keys which."""
    if not registered:
        return set()
    return keys if len(keys) == 1 else active_email_keys(seminar, emails)


def _places_counts():
    """The three counts of places_taken_and_registered (see there). No association (NULL) and no
    address (an empty IN) count 0."""
    seminar_id = bindparam("seminar_id")
    return (
        db.select(func.count(Registration.id)).where(Registration.seminar_id == seminar_id, holds_place()),
        db.select(func.count(Registration.id)).where(Registration.seminar_id == seminar_id, holds_place(),
                                                     Registration.association_id == bindparam("association_id")),
        db.select(func.count(Registration.id)).where(
            Registration.seminar_id == seminar_id, Registration.email_key.in_(bindparam("keys", expanding=True)),
            active()),
    )


@cache
def _places_statement():
    """places_taken_and_registered's one query, built once (it runs under the seminar's lock). No
    association (NULL) and no address (an empty IN) count 0."""
    return db.select(
        func.count(Registration.id).filter(holds_place()),
        func.count(Registration.id).filter(holds_place(), Registration.association_id == bindparam("association_id")),
        func.count(Registration.id).filter(Registration.email_key.in_(bindparam("keys", expanding=True)), active()),
    ).where(Registration.seminar_id == bindparam("seminar_id"))


def places_left(seminar: Seminar) -> int:
    return max(seminar.capacity - places_taken(seminar), 0)


def waitlist_position(registration: Registration) -> int | None:
    """1 for the first on the waiting list; None for anyone not on it."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    return db.session.scalar(
        db.select(func.count(Registration.id)).where(
            Registration.seminar_id == registration.seminar_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.id <= registration.id,
        )
    )


def waitlist_positions(registrations: list[Registration]) -> dict[int, int]:
    """{registration id: position} for those of `registrations` on a waiting list, in one query
    (a page listing many people asks this once instead of once per person)."""
    waiting_ids = {r.id for r in registrations if r.status == RegistrationStatus.WAITLISTED}
    if not waiting_ids:
        return {}
    seminar_ids = {r.seminar_id for r in registrations if r.id in waiting_ids}
    rows = db.session.execute(
        db.select(Registration.seminar_id, Registration.id)
        .where(Registration.seminar_id.in_(seminar_ids), Registration.status == RegistrationStatus.WAITLISTED)
        .order_by(Registration.seminar_id, Registration.id)
    )
    positions: dict[int, int] = {}
    previous_seminar, position = None, 0
    for seminar_id, registration_id in rows:
        position = position + 1 if seminar_id == previous_seminar else 1
        previous_seminar = seminar_id
        if registration_id in waiting_ids:
            positions[registration_id] = position
    return positions


def active_email_keys(seminar: Seminar, emails: list[str]) -> set[str]:
    """The email keys among `emails` that have an active registration for the seminar (one query for a group)."""
    keys = {email_key(email) for email in emails}
    if not keys:
        return set()
    return set(db.session.scalars(
        db.select(Registration.email_key).where(
            Registration.seminar_id == seminar.id,
            Registration.email_key.in_(keys),
            active(),
        )
    ))


# --- registering -------------------------------------------------------------------------------

DUPLICATE_MESSAGE = _l("This email address is already registered for this seminar.")
DUPLICATE_IN_GROUP_MESSAGE = _l("This email address appears twice in the list.")


@dataclass
class RegistrationOutcome:
    """What became of each person given, in the order given.

    `registrations[i]` is the registration made for `applicants[i]`, or None when that address
    already had an active registration for the seminar: that person was not registered again,
    their personal link went out by email instead (see register_or_send_links).
    """

    applicants: list[Applicant]
    registrations: list[Registration | None] = field(default_factory=list)

    @property
    def registered(self) -> list[Registration]:
        return [registration for registration in self.registrations if registration is not None]

    @property
    def links_sent(self) -> list[Applicant]:
        return [applicant for applicant, registration in zip(self.applicants, self.registrations)
                if registration is None]


def check_registrable(seminar: Seminar, applicants: list[Applicant], now: datetime, *,
                      refuse_registered: bool = True) -> list[bool]:
    """Raise RegistrationRefused if these people cannot register; stores nothing.

    Returns, for each applicant, whether their address already has an active registration for
    the seminar (with `refuse_registered`, the first such address is refused instead). An
    address twice in the list is always refused: that says nothing about anyone's registration.
    """
    check_open_and_distinct(seminar, applicants, now)
    taken = active_email_keys(seminar, [applicant.email for applicant in applicants if applicant.email])
    return registered_flags(applicants, taken, refuse_registered=refuse_registered)


def check_open_and_distinct(seminar: Seminar, applicants: list[Applicant], now: datetime) -> None:
    """The part of check_registrable that needs no query: the seminar takes registrations, and no
    address is given twice."""
    reason = seminar.closed_reason(now)
    if reason is not None:
        raise RegistrationClosed(reason)
    seen: set[str] = set()
    for index, applicant in enumerate(applicants):
        if not applicant.email:
            continue
        key = email_key(applicant.email)
        if key in seen:
            raise DuplicateRegistration(DUPLICATE_IN_GROUP_MESSAGE, field="email", index=index)
        seen.add(key)


def registered_flags(applicants: list[Applicant], taken: set[str], *, refuse_registered: bool) -> list[bool]:
    """For each applicant, whether their address is among the `taken` keys (see check_registrable)."""
    registered = [bool(applicant.email) and email_key(applicant.email) in taken for applicant in applicants]
    if refuse_registered and any(registered):
        raise DuplicateRegistration(DUPLICATE_MESSAGE, field="email", index=registered.index(True))
    return registered


def register_people(
    seminar: Seminar,
    applicants: list[Applicant],
    association: Association | None,
    *,
    registered_by: AssociationContact | None = None,
    consent_at: datetime | None = None,
    now: datetime | None = None,
) -> list[Registration]:
    """Register one person or a group in one decision, under the seminar's lock.

    In the order given, each person gets a place while places are left and their association
    is under its maximum; the others join the waiting list in that order. Nothing is stored
    when anyone is refused; an address already registered for the seminar is refused too
    (DuplicateRegistration). The public forms use register_or_send_links instead, which
    answers such an address without saying so.

    `registered_by` is the association contact who registers the group. Members without an
    email address are allowed only then: the contact gets one message listing the whole group
    with their own link (booking.mail.outbox says what reaches whom later).
    """
    return _register(seminar, applicants, association, registered_by=registered_by, consent_at=consent_at,
                     now=now, send_links=False).registered


def register_or_send_links(
    seminar: Seminar,
    applicants: list[Applicant],
    association: Association | None | Callable[[], Association | None],
    *,
    registered_by: Callable[[Association | None], AssociationContact] | None = None,
    consent_at: datetime | None = None,
    now: datetime | None = None,
) -> RegistrationOutcome:
    """Register as the public forms do: an address already registered is not refused but answered
    by email, so that no page tells anyone whether an address is registered.

    A person whose address has an active registration for this seminar is not registered again;
    that address is sent its personal links instead (booking.registrations.links.request_links:
    every current link in one email, at most once an hour per address). Everyone else is
    registered as by register_people.

    `association` (and `registered_by`, given the association) may be functions that find or
    create the row; they run first (before the seminar's lock, as always, so that two requests
    creating the same association cannot deadlock). A new association or contact typed with a form
    that registered no one is not kept: the transaction is rolled back then, before the links are
    recorded. So this begins the request's writing: the session holds no change of the caller's
    when it is called (the public forms call it right after validating; their views are
    `reads_first`, so on SQLite the write lock is taken here, not before the form was checked).

    Nobody is inserted in a savepoint of their own (two more statements each, under the lock): the
    check under the lock finds an address already registered, and should the database's unique
    index still catch one (the last line of defence), the whole attempt is rolled back and made
    again with a savepoint for each person, so that the others stay registered.
    """
    now = now or utcnow()
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("register_or_send_links begins the request's writing: the session must hold no changes")
    begin_writing()  # SQLite: the write lock from here (the forms' views are reads_first)
    try:
        outcome = _attempt(seminar, applicants, association, registered_by, consent_at, now, own_savepoints=False)
    except _UniqueIndexCaught:
        _roll_back_and_write_again()
        log.warning("registration for %s: the unique index caught an address already registered; made again",
                    seminar.slug)
        outcome = _attempt(seminar, applicants, association, registered_by, consent_at, now, own_savepoints=True)
    if not outcome.registered:
        _roll_back_and_write_again()  # nobody registered: a new association or contact of this form is not kept
    for applicant in outcome.links_sent:
        request_links(applicant.email, seminar=seminar, now=now)
    if outcome.links_sent:
        log.info("registration for %s: %d already registered, links sent instead (at most hourly)",
                 seminar.slug, len(outcome.links_sent))
    return outcome


def _roll_back_and_write_again() -> None:
    """Undo the attempt; the request goes on writing (SQLite: BEGIN IMMEDIATE again, see begin_write)."""
    db.session.rollback()
    begin_write()


class _UniqueIndexCaught(Exception):
    """The unique index refused a registration inserted without a savepoint of its own."""


@cache
def _insert_registration():
    """One registration's INSERT ... RETURNING as an ORM statement: the Registration comes back in
    the session, loaded, without the unit of work of a flush (about a tenth of the request's CPU).
    Keys given as None are left out of the INSERT (so their columns' defaults apply)."""
    return db.insert(Registration).returning(Registration)


def _attempt(seminar, applicants, association, registered_by, consent_at, now, *, own_savepoints: bool):
    chosen = association() if callable(association) else association
    contact = registered_by(chosen) if registered_by is not None else None
    return _register(seminar, applicants, chosen, registered_by=contact, consent_at=consent_at,
                     now=now, send_links=True, own_savepoints=own_savepoints)


def _register(
    seminar: Seminar,
    applicants: list[Applicant],
    association: Association | None,
    *,
    registered_by: AssociationContact | None,
    consent_at: datetime | None,
    now: datetime | None,
    send_links: bool,
    own_savepoints: bool = False,
) -> RegistrationOutcome:
    if not applicants:
        raise ValueError("register_people needs at least one applicant")
    if registered_by is None and any(not (a.email or "").strip() for a in applicants):
        raise ValueError("only an association contact may register someone without an email address")
    now = now or utcnow()
    # The notice the people agreed to; made by hand in the workspace (a staff user acting, as the
    # audit log records it too), the office confirms their agreement and is recorded as doing so.
    # (Found before the lock: it reads files, and everyone else waits while the lock is held.)
    consent_version = privacy_notice.consent_version(by_office=audit.current_actor().kind == "user")

    seminar, taken, association_confirmed, registered_keys = lock_and_count(
        seminar, association, [applicant.email for applicant in applicants if applicant.email])
    check_open_and_distinct(seminar, applicants, now)
    already = registered_flags(applicants, registered_keys, refuse_registered=not send_links)
    free = seminar.capacity - taken
    limit = seminar.max_per_association if association is not None else None

    outcome = RegistrationOutcome(applicants=list(applicants))
    for index, applicant in enumerate(applicants):
        if already[index]:
            outcome.registrations.append(None)
            continue
        values = dict(
            seminar_id=seminar.id,
            association_id=association.id if association is not None else None,
            first_name=applicant.first_name.strip(),
            last_name=applicant.last_name.strip(),
            email=(applicant.email or "").strip() or None,
            email_key=email_key(applicant.email),
            registered_by_contact_id=registered_by.id if registered_by is not None else None,
            phone=(applicant.phone or "").strip() or None,
            preferred_language=applicant.preferred_language,
            needs=(applicant.needs or "").strip() or None,
            consent_at=consent_at or now,
            consent_version=consent_version,
            created_at=now,
            waitlist_reason=None,
            confirmed_at=None,
        )
        gets_place = free > 0 and (limit is None or association_confirmed < limit)
        if free <= 0:
            values.update(status=RegistrationStatus.WAITLISTED, waitlist_reason=WaitlistReason.FULL)
        elif not gets_place:
            values.update(status=RegistrationStatus.WAITLISTED, waitlist_reason=WaitlistReason.ASSOCIATION_LIMIT)
        else:
            values.update(status=RegistrationStatus.CONFIRMED, confirmed_at=now)
        try:
            # one by one: ids give the waiting-list order, the registration order. The
            # database's unique index (one active registration per address and seminar) is the
            # last line of defence should the check above ever miss a registration. Without a
            # savepoint (register_people; register_or_send_links' first attempt) the whole
            # transaction is lost then; with one, only this person is not registered.
            with db.session.begin_nested() if own_savepoints else nullcontext():
                registration = db.session.scalars(_insert_registration(), [values]).one()
        except IntegrityError:
            if not send_links or values["email_key"] is None:
                raise DuplicateRegistration(DUPLICATE_MESSAGE, field="email", index=index) from None
            if not own_savepoints:
                raise _UniqueIndexCaught() from None
            log.warning("registration for %s: the unique index caught an address already registered", seminar.slug)
            outcome.registrations.append(None)
            continue
        if gets_place:
            free -= 1
            association_confirmed += 1
        outcome.registrations.append(registration)

    registrations = outcome.registered
    messages, entries = [], []
    for registration in registrations:
        messages += outbox.new_registration_rows(registration, now=now)
        entries.append(audit.entry_row("registration.created", registration=registration,
                                       status=str(registration.status),
                                       by_contact=registered_by.id if registered_by is not None else None))
        log.info("registration %s for %s: %s", registration.public_id, seminar.slug, registration.status)
    # under the seminar's lock: one INSERT for all their messages, one for all their audit entries
    outbox.insert_new_rows(messages)
    audit.record_rows(entries)
    if registered_by is not None and registrations:
        outbox.group_registered(registered_by, registrations,
                                links_sent=[f"{a.first_name.strip()} {a.last_name.strip()}" for a in outcome.links_sent])
        log.info("association contact %s registered %d people for %s",
                 registered_by.public_id, len(registrations), seminar.slug)
    return outcome


def register(
    seminar: Seminar,
    applicant: Applicant,
    association: Association | None,
    *,
    consent_at: datetime | None = None,
    now: datetime | None = None,
) -> Registration:
    return register_people(seminar, [applicant], association, consent_at=consent_at, now=now)[0]


# --- cancelling and promotion ------------------------------------------------------------------

def offer_deadline(seminar: Seminar, now: datetime) -> datetime | None:
    """When a place freed `now` must be accepted by, or None when it is simply given (promotion).

    A place is offered when it frees up less than BOOKING_OFFER_CUTOFF_HOURS before the first
    session: for BOOKING_OFFER_HOURS, never past the start. Once the first session has started no
    offer can have a deadline before it, and a free place is given as before.
    """
    first_start = seminar.first_start
    if first_start is None or now >= first_start:
        return None
    if first_start - now >= timedelta(hours=current_app.config["BOOKING_OFFER_CUTOFF_HOURS"]):
        return None
    return min(now + timedelta(hours=current_app.config["BOOKING_OFFER_HOURS"]), first_start)


def promote_waitlisted(seminar: Seminar, now: datetime) -> list[Registration]:
    """Give free places to the waiting list, in registration order, under the lock the caller holds.

    Someone whose association is at its maximum is passed over but keeps their position; someone
    with an open offer already is not offered a second place. A late place (see offer_deadline)
    is offered rather than given: the offer holds it. Returns the registrations given a place now
    (not those offered one).
    """
    if seminar.closed_reason(now) in (ClosedReason.CANCELLED, ClosedReason.OVER, ClosedReason.DRAFT):
        return []
    free = seminar.capacity - places_taken(seminar)
    if free <= 0:
        return []
    waiting = list(db.session.scalars(
        db.select(Registration)
        .where(Registration.seminar_id == seminar.id,
               Registration.status == RegistrationStatus.WAITLISTED,
               Registration.offer_expires_at.is_(None))
        .order_by(Registration.id)
    ))
    limit = seminar.max_per_association
    per_association: Counter[int] = Counter()
    if limit is not None:
        rows = db.session.execute(
            db.select(Registration.association_id, func.count(Registration.id))
            .where(Registration.seminar_id == seminar.id, holds_place(),
                   Registration.association_id.is_not(None))
            .group_by(Registration.association_id)
        )
        per_association.update({association_id: n for association_id, n in rows})

    deadline = offer_deadline(seminar, now)
    promoted, offered = [], []
    for registration in waiting:
        if free <= 0:
            break
        association_id = registration.association_id
        if limit is not None and association_id is not None and per_association[association_id] >= limit:
            registration.waitlist_reason = WaitlistReason.ASSOCIATION_LIMIT
            continue
        if deadline is not None:
            registration.offered_at = now
            registration.offer_expires_at = deadline
            offered.append(registration)
        else:
            registration.status = RegistrationStatus.CONFIRMED
            registration.waitlist_reason = None
            registration.confirmed_at = now
            promoted.append(registration)
        if association_id is not None:
            per_association[association_id] += 1
        free -= 1
    db.session.flush()
    for registration in promoted:
        outbox.registration_confirmed(registration, promoted=True, now=now)
        audit.record("registration.promoted", registration=registration)
        log.info("registration %s for %s: promoted from the waiting list",
                 registration.public_id, seminar.slug)
    for registration in offered:
        outbox.place_offered(registration)
        audit.record("registration.offered", registration=registration, expires_at=deadline.isoformat())
        log.info("registration %s for %s: offered a late place until %s",
                 registration.public_id, seminar.slug, deadline.isoformat())
    return promoted


class CancellationRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def cancel_registration(registration: Registration, *, now: datetime | None = None, by_office: bool = False,
                        note: str | None = None) -> list[Registration]:
    """Cancel a registration; a freed place goes to the waiting list in the same transaction.

    `by_office`: the office cancelled it (from the workspace): the participant's email says so,
    with the office's `note` if given. Returns the registrations promoted from the waiting list.
    """
    now = now or utcnow()
    lock_seminar(registration.seminar)
    db.session.refresh(registration)
    if not registration.is_active:
        raise CancellationRefused(_l("This registration has already been cancelled."))
    if not registration.can_cancel(now):
        raise CancellationRefused(_l("This seminar is over; the registration can no longer be cancelled."))
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    held_offer = registration.has_open_offer
    registration.status = RegistrationStatus.CANCELLED
    registration.waitlist_reason = None
    registration.cancelled_at = now
    db.session.flush()
    outbox.registration_cancelled(registration, was_confirmed=was_confirmed, by_office=by_office,
                                  note=(note or "").strip() or None, now=now)
    log.info("registration %s for %s: cancelled%s", registration.public_id, registration.seminar.slug,
             " by the office" if by_office else "")
    detail = {"by_office": True, "with_note": bool((note or "").strip())} if by_office else {}
    if held_offer:
        detail["held_offer"] = True
    audit.record("registration.cancelled", registration=registration, had_place=was_confirmed, **detail)
    if not (was_confirmed or held_offer):
        return []
    return promote_waitlisted(registration.seminar, now)


# --- late places: offers --------------------------------------------------------------------------

class OfferRefused(Exception):
    """The answer to an offer was not taken; `message` says why."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


NO_OFFER_MESSAGE = _l("No place is offered to you at the moment.")


def accept_offer(registration: Registration, *, now: datetime | None = None) -> Registration:
    """The person takes the place offered to them, before its deadline: confirmed, with the emails
    and invitations of a promotion. The offer held the place, so the capacity holds."""
    now = now or utcnow()
    seminar = lock_seminar(registration.seminar)
    db.session.refresh(registration)
    if not registration.has_open_offer:
        raise OfferRefused(NO_OFFER_MESSAGE)
    if not registration.can_accept_offer(now):
        raise OfferRefused(_l("The time to accept this place has run out: the place is passed on."))
    reason = seminar.closed_reason(now)
    if reason in (ClosedReason.CANCELLED, ClosedReason.OVER):
        raise OfferRefused(CLOSED_MESSAGES[reason])
    registration.status = RegistrationStatus.CONFIRMED
    registration.waitlist_reason = None
    registration.confirmed_at = now
    db.session.flush()
    outbox.registration_confirmed(registration, promoted=True, now=now)
    audit.record("registration.offer_accepted", registration=registration)
    log.info("registration %s for %s: accepted the place offered", registration.public_id, seminar.slug)
    return registration


def decline_offer(registration: Registration, *, now: datetime | None = None) -> list[Registration]:
    """The person does not take the place offered: they leave the waiting list (the cancellation,
    with its email) and the place moves on at once. Returns the registrations given a place now."""
    now = now or utcnow()
    lock_seminar(registration.seminar)
    db.session.refresh(registration)
    if not registration.has_open_offer:
        raise OfferRefused(NO_OFFER_MESSAGE)
    audit.record("registration.offer_declined", registration=registration)
    log.info("registration %s for %s: declined the place offered", registration.public_id,
             registration.seminar.slug)
    try:
        return cancel_registration(registration, now=now)
    except CancellationRefused as refused:
        raise OfferRefused(refused.message) from None


def expire_offers(now: datetime | None = None) -> int:
    """The worker's pass: offers not accepted by their deadline end, and each place moves on.

    The person leaves the waiting list (they are told by email); the place goes to the next
    person as promote_waitlisted decides (another offer, or, once the seminar has started, the
    place itself). Each seminar under its lock. Returns how many offers ended; flushes.
    """
    now = now or utcnow()
    due = (Registration.status == RegistrationStatus.WAITLISTED, Registration.offer_expires_at.is_not(None),
           Registration.offer_expires_at <= now)
    seminar_ids = list(db.session.scalars(
        db.select(Registration.seminar_id).join(Seminar, Seminar.id == Registration.seminar_id)
        .where(*due, Seminar.status == SeminarStatus.PUBLISHED)
        .distinct().order_by(Registration.seminar_id)
    ))
    ended = 0
    for seminar_id in seminar_ids:
        seminar = lock_seminar(db.session.get(Seminar, seminar_id))
        # read again under the lock: an offer accepted or declined meanwhile is no longer due
        expired = list(db.session.scalars(
            db.select(Registration).where(Registration.seminar_id == seminar.id, *due)
            .order_by(Registration.id).execution_options(populate_existing=True)
        ))
        for registration in expired:
            registration.status = RegistrationStatus.CANCELLED
            registration.waitlist_reason = None
            registration.cancelled_at = now
        db.session.flush()
        for registration in expired:
            outbox.offer_expired(registration)
            audit.record("registration.offer_expired", registration=registration)
            log.info("registration %s for %s: the place offered was not accepted in time",
                     registration.public_id, seminar.slug)
        ended += len(expired)
        if expired:
            promote_waitlisted(seminar, now)
    return ended


# --- "I am coming": the reminder's confirmation ---------------------------------------------------

class AttendanceRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def confirm_attendance(registration: Registration, *, now: datetime | None = None) -> Registration:
    """The person says they are coming (the reminder's link): noted once, with the moment.

    It decides nothing about places, so no seminar lock: the row's own lock keeps a cancellation
    at the same moment from being overtaken.
    """
    now = now or utcnow()
    db.session.refresh(registration, with_for_update=True)
    if not registration.can_confirm_attendance(now):
        raise AttendanceRefused(_l("Only a registration with a place in a seminar that is not over can be "
                                   "confirmed."))
    if registration.attendance_confirmed_at is None:
        registration.attendance_confirmed_at = now
        db.session.flush()
        audit.record("registration.attendance_confirmed", registration=registration)
        log.info("registration %s for %s: coming, confirmed", registration.public_id, registration.seminar.slug)
    return registration


# --- what only the office does ------------------------------------------------------------------

class OfficeActionRefused(Exception):
    """The office's action was not taken; `message` says why, in words for the office."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def promote_by_office(registration: Registration, *, now: datetime | None = None) -> Registration:
    """The office gives a waitlisted person a place by hand, under the seminar's lock.

    Allowed beyond the per-association maximum (the office decides that), never beyond the
    capacity. The person gets the same emails as a promotion from the waiting list.
    """
    now = now or utcnow()
    seminar = lock_seminar(registration.seminar)
    db.session.refresh(registration)
    if registration.status != RegistrationStatus.WAITLISTED:
        raise OfficeActionRefused(_l("This person is not on the waiting list any more."))
    reason = seminar.closed_reason(now)
    if reason in (ClosedReason.CANCELLED, ClosedReason.OVER):
        raise OfficeActionRefused(CLOSED_MESSAGES[reason])
    # an open offer to this very person holds the place they are given
    taken = places_taken(seminar) - (1 if registration.has_open_offer else 0)
    if taken >= seminar.capacity:
        raise OfficeActionRefused(_l(
            "All %(capacity)d places are taken. Raise the capacity or wait until someone cancels.",
            capacity=seminar.capacity))
    limit = seminar.max_per_association
    beyond = (limit is not None and registration.association is not None
              and confirmed_count(seminar, registration.association) >= limit)
    registration.status = RegistrationStatus.CONFIRMED
    registration.waitlist_reason = None
    registration.confirmed_at = now
    db.session.flush()
    outbox.registration_confirmed(registration, promoted=True, now=now)
    audit.record("registration.promoted_by_office", registration=registration,
                 beyond_association_maximum=beyond)
    log.info("registration %s for %s: given a place by the office", registration.public_id, seminar.slug)
    return registration


def resend_emails(registration: Registration, *, key: str, now: datetime | None = None) -> int:
    """The office sends a participant's confirmation (or waiting-list email) and invitations again.

    `key` names the request: sent twice (a double click), nothing more is recorded. Returns how
    many emails were recorded now.
    """
    if not registration.is_active:
        raise OfficeActionRefused(_l("This registration is cancelled: there is nothing to send again."))
    recorded = outbox.resend(registration, key=key, now=now)
    if recorded:
        audit.record("registration.emails_resent", registration=registration, emails=len(recorded))
        log.info("registration %s: %d emails recorded again by the office", registration.public_id, len(recorded))
    return len(recorded)


AUDIENCES = {
    "confirmed": (RegistrationStatus.CONFIRMED,),
    "waitlisted": (RegistrationStatus.WAITLISTED,),
    "both": (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED),
}


def message_audience(seminar: Seminar, audience: str) -> list[Registration]:
    """Who a message to `audience` (confirmed, waitlisted or both) reaches, in registration order."""
    return list(db.session.scalars(
        db.select(Registration)
        .where(Registration.seminar_id == seminar.id, Registration.status.in_(AUDIENCES[audience]))
        .order_by(Registration.id)
    ))


def message_participants(seminar: Seminar, *, audience: str, subject: str, body: str, key: str) -> int:
    """The office writes to a seminar's participants: one outbox row per registration, each read in
    the recipient's language frame with their personal link (a member without an address: their
    contact). `key` names this one sending: sent twice, nobody gets it twice. Returns how many
    emails were recorded now."""
    recipients = message_audience(seminar, audience)
    if not recipients:
        raise OfficeActionRefused(_l("Nobody is registered in the group you chose."))
    recorded = [message for registration in recipients
                if (message := outbox.office_message(registration, subject=subject, body=body, key=key)) is not None]
    if recorded:
        audit.record("seminar.participants_messaged", seminar=seminar, audience=audience, emails=len(recorded))
        log.info("seminar %s: office message recorded for %d registrations", seminar.id, len(recorded))
    return len(recorded)


# --- the personal link -------------------------------------------------------------------------

def manage_token(registration: Registration) -> str:
    return make_token(TOKEN_PURPOSE, registration)


# what every page opened with a personal link shows: the seminar with its sessions, the association
# (read with the registration: two queries instead of four, one after the other)
PERSONAL_PAGE_LOAD = (joinedload(Registration.seminar).selectinload(Seminar.sessions),
                      joinedload(Registration.association))


def registration_for_token(token: str) -> Registration | None:
    return resolve_token(TOKEN_PURPOSE, token, Registration, options=PERSONAL_PAGE_LOAD)


def revoke_links(registration: Registration) -> None:
    """Every link of the registration stops working: the manage link and the reminder's two."""
    revoke_tokens(registration)


def coming_token(registration: Registration) -> str:
    return make_token(COMING_TOKEN_PURPOSE, registration)


def registration_for_coming_token(token: str) -> Registration | None:
    return resolve_token(COMING_TOKEN_PURPOSE, token, Registration)


def release_token(registration: Registration) -> str:
    return make_token(RELEASE_TOKEN_PURPOSE, registration)


def registration_for_release_token(token: str) -> Registration | None:
    return resolve_token(RELEASE_TOKEN_PURPOSE, token, Registration)
