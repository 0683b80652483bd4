"""The registration rules: capacity, per-association maximum, waiting list, promotion, cancellation.

Every decision about places is taken here, under a per-seminar lock (see booking.database), so
capacity and the association maximum hold under concurrent requests. Functions flush but never
commit: the request or job that calls them commits once.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from ..associations.models import Association, AssociationContact
from ..database import in_write_transaction, utcnow
from ..extensions import db
from ..mail import outbox
from ..seminars.models import CLOSED_MESSAGES, ClosedReason, Seminar
from ..tokens import make_token, resolve_token, revoke_tokens
from .models import (
    ACTIVE_STATUSES,
    Registration,
    RegistrationStatus,
    WaitlistReason,
    email_key,
)

log = logging.getLogger(__name__)

TOKEN_PURPOSE = "registration"


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
    """Hold the seminar's lock until the transaction ends, and reload its state under it."""
    if not in_write_transaction():
        # SQLite: a transaction begun as a reading one takes the single write lock with its
        # first write. Should another writer have come in between, SQLite refuses with
        # "database is locked" rather than let us decide on stale counts.
        db.session.execute(
            db.update(Seminar).where(Seminar.id == seminar.id).values(id=Seminar.id)
            .execution_options(synchronize_session=False)
        )
    locked = db.session.scalar(
        db.select(Seminar)
        .where(Seminar.id == seminar.id)
        .with_for_update(of=Seminar)
        .execution_options(populate_existing=True)
    )
    db.session.refresh(locked, ["sessions"])
    return locked


# --- counts ------------------------------------------------------------------------------------

def confirmed_count(seminar: Seminar, association: Association | None = None) -> int:
    query = db.select(func.count(Registration.id)).where(
        Registration.seminar_id == seminar.id,
        Registration.status == RegistrationStatus.CONFIRMED,
    )
    if association is not None:
        query = query.where(Registration.association_id == association.id)
    return db.session.scalar(query) or 0


def places_left(seminar: Seminar) -> int:
    return max(seminar.capacity - confirmed_count(seminar), 0)


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


def active_registration_for_email(seminar: Seminar, email: str) -> Registration | None:
    return db.session.scalar(
        db.select(Registration).where(
            Registration.seminar_id == seminar.id,
            Registration.email_key == email_key(email),
            Registration.status.in_(ACTIVE_STATUSES),
        )
    )


# --- registering -------------------------------------------------------------------------------

DUPLICATE_MESSAGE = _l("This email address is already registered for this seminar.")
DUPLICATE_IN_GROUP_MESSAGE = _l("This email address appears twice in the list.")


def check_registrable(seminar: Seminar, applicants: list[Applicant], now: datetime) -> None:
    """Raise RegistrationRefused if these people cannot register; stores nothing."""
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
        if active_registration_for_email(seminar, applicant.email) is not None:
            raise DuplicateRegistration(DUPLICATE_MESSAGE, field="email", index=index)


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
    when anyone is refused.

    `registered_by` is the association contact who registers the group. Members without an
    email address are allowed only then: their messages go to the contact, who also gets one
    message listing the whole group with their own link.
    """
    if not applicants:
        raise ValueError("register_people needs at least one applicant")
    if registered_by is None and any(not (a.email or "").strip() for a in applicants):
        raise ValueError("only an association contact may register someone without an email address")
    now = now or utcnow()
    seminar = lock_seminar(seminar)
    check_registrable(seminar, applicants, now)

    free = seminar.capacity - confirmed_count(seminar)
    association_confirmed = confirmed_count(seminar, association) if association is not None else 0
    limit = seminar.max_per_association if association is not None else None

    registrations = []
    for applicant in applicants:
        registration = Registration(
            seminar=seminar,
            association=association,
            first_name=applicant.first_name.strip(),
            last_name=applicant.last_name.strip(),
            email=(applicant.email or "").strip() or None,
            email_key=email_key(applicant.email),
            registered_by=registered_by,
            phone=(applicant.phone or "").strip() or None,
            preferred_language=applicant.preferred_language,
            needs=(applicant.needs or "").strip() or None,
            consent_at=consent_at or now,
            created_at=now,
        )
        if free <= 0:
            registration.status = RegistrationStatus.WAITLISTED
            registration.waitlist_reason = WaitlistReason.FULL
        elif limit is not None and association_confirmed >= limit:
            registration.status = RegistrationStatus.WAITLISTED
            registration.waitlist_reason = WaitlistReason.ASSOCIATION_LIMIT
        else:
            registration.status = RegistrationStatus.CONFIRMED
            registration.confirmed_at = now
            free -= 1
            association_confirmed += 1
        db.session.add(registration)
        registrations.append(registration)
        # flush one by one: ids give the waiting-list order, the registration order
        db.session.flush()
    for registration in registrations:
        if registration.status == RegistrationStatus.CONFIRMED:
            outbox.registration_confirmed(registration, now=now)
        else:
            outbox.registration_waitlisted(registration)
        log.info("registration %s for %s: %s", registration.public_id, seminar.slug, registration.status)
    if registered_by is not None:
        outbox.group_registered(registered_by, registrations)
        log.info("association contact %s registered %d people for %s",
                 registered_by.public_id, len(registrations), seminar.slug)
    return registrations


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

def promote_waitlisted(seminar: Seminar, now: datetime) -> list[Registration]:
    """Give free places to the waiting list, in registration order, under the lock the caller holds.

    Someone whose association is at its maximum is passed over but keeps their position.
    """
    if seminar.closed_reason(now) in (ClosedReason.CANCELLED, ClosedReason.OVER, ClosedReason.DRAFT):
        return []
    free = seminar.capacity - confirmed_count(seminar)
    if free <= 0:
        return []
    waiting = list(db.session.scalars(
        db.select(Registration)
        .where(Registration.seminar_id == seminar.id,
               Registration.status == RegistrationStatus.WAITLISTED)
        .order_by(Registration.id)
    ))
    limit = seminar.max_per_association
    per_association: Counter[int] = Counter()
    if limit is not None:
        rows = db.session.execute(
            db.select(Registration.association_id, func.count(Registration.id))
            .where(Registration.seminar_id == seminar.id,
                   Registration.status == RegistrationStatus.CONFIRMED,
                   Registration.association_id.is_not(None))
            .group_by(Registration.association_id)
        )
        per_association.update({association_id: n for association_id, n in rows})

    promoted = []
    for registration in waiting:
        if free <= 0:
            break
        association_id = registration.association_id
        if limit is not None and association_id is not None and per_association[association_id] >= limit:
            registration.waitlist_reason = WaitlistReason.ASSOCIATION_LIMIT
            continue
        registration.status = RegistrationStatus.CONFIRMED
        registration.waitlist_reason = None
        registration.confirmed_at = now
        if association_id is not None:
            per_association[association_id] += 1
        free -= 1
        promoted.append(registration)
    db.session.flush()
    for registration in promoted:
        outbox.registration_confirmed(registration, promoted=True, now=now)
        log.info("registration %s for %s: promoted from the waiting list",
                 registration.public_id, seminar.slug)
    return promoted


class CancellationRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def cancel_registration(registration: Registration, *, now: datetime | None = None) -> list[Registration]:
    """Cancel a registration; a freed place goes to the waiting list in the same transaction.

    Returns the registrations promoted from the waiting list.
    """
    now = now or utcnow()
    lock_seminar(registration.seminar)
    db.session.refresh(registration)
    if not registration.is_active:
        raise CancellationRefused(_l("This registration has already been cancelled."))
    if not registration.can_cancel(now):
        raise CancellationRefused(_l("This seminar is over; the registration can no longer be cancelled."))
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.waitlist_reason = None
    registration.cancelled_at = now
    db.session.flush()
    outbox.registration_cancelled(registration, was_confirmed=was_confirmed, now=now)
    log.info("registration %s for %s: cancelled", registration.public_id, registration.seminar.slug)
    if not was_confirmed:
        return []
    return promote_waitlisted(registration.seminar, now)


# --- the personal link -------------------------------------------------------------------------

def manage_token(registration: Registration) -> str:
    return make_token(TOKEN_PURPOSE, registration)


def registration_for_token(token: str) -> Registration | None:
    return resolve_token(TOKEN_PURPOSE, token, Registration)


def revoke_links(registration: Registration) -> None:
    revoke_tokens(registration)
