"""Recording what participants must be told, in the transaction of the change that causes it.

Nothing here renders or sends: the dispatcher does that later, from the current state, in the
participant's language. A row per (kind, registration, session, revision) makes a duplicate
impossible; recording the same thing twice returns the existing row.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from ..associations.models import AssociationContact, LinkRequest
from ..database import utcnow
from ..extensions import db
from ..registrations.models import Registration, RegistrationStatus
from ..seminars.models import Seminar, Session
from .models import MessageKind, OutboxMessage

log = logging.getLogger(__name__)


def recipient_for(registration: Registration) -> str:
    """Where this registration's messages go: the person's own address, else the contact who registered them."""
    if registration.email:
        return registration.email
    if registration.registered_by is None:
        raise ValueError(f"registration {registration.public_id} has no email address and no contact")
    return registration.registered_by.email


def dedupe_key(kind: MessageKind, registration: Registration, session: Session | None,
               revision: int, extra: str = "") -> str:
    session_part = str(session.id) if session is not None else "-"
    key = f"{kind.value}:{registration.id}:{session_part}:{revision}"
    return f"{key}:{extra}" if extra else key


def record(kind: MessageKind, registration: Registration, session: Session | None = None, *,
           revision: int = 0, facts: dict | None = None, extra_key: str = "",
           not_before: datetime | None = None) -> OutboxMessage:
    key = dedupe_key(kind, registration, session, revision, extra_key)
    existing = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
    if existing is not None:
        return existing
    message = OutboxMessage(
        dedupe_key=key,
        kind=kind,
        registration=registration,
        session=session,
        revision=revision,
        recipient=recipient_for(registration),
        facts=facts or {},
        next_attempt_at=not_before or utcnow(),
    )
    return _add(message)


def _add(message: OutboxMessage) -> OutboxMessage:
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        # another transaction recorded the very same message first
        return db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.dedupe_key == message.dedupe_key))
    return message


# --- an association contact's own messages ----------------------------------------------------

def group_registered(contact: AssociationContact, registrations: list[Registration]) -> OutboxMessage:
    """The contact registered these people: one message listing them, with the contact's link."""
    ids = [registration.id for registration in registrations]
    return _add(OutboxMessage(
        dedupe_key=f"{MessageKind.GROUP_REGISTERED.value}:contact{contact.id}:{ids[0]}",
        kind=MessageKind.GROUP_REGISTERED,
        contact=contact,
        recipient=contact.email,
        facts={"registration_ids": ids},
    ))


def links(request: LinkRequest, contact: AssociationContact | None,
          registrations: list[Registration]) -> OutboxMessage:
    """Someone asked for their links again: one email with the contact link and every manage link."""
    if contact is None and not registrations:
        raise ValueError("no link to send")
    return _add(OutboxMessage(
        dedupe_key=f"{MessageKind.LINKS.value}:{request.id}",
        kind=MessageKind.LINKS,
        contact=contact,
        registration=None if contact is not None else registrations[-1],
        recipient=contact.email if contact is not None else registrations[-1].email,
        facts={"registration_ids": [registration.id for registration in registrations]},
    ))


def _upcoming_sessions(seminar: Seminar, now: datetime) -> list[Session]:
    return [s for s in seminar.scheduled_sessions if s.ends_at > now]


def registration_confirmed(registration: Registration, *, promoted: bool = False,
                           now: datetime | None = None) -> None:
    """A place: the confirmation email and one calendar invitation per session still to come."""
    now = now or utcnow()
    record(MessageKind.PROMOTION if promoted else MessageKind.CONFIRMATION, registration)
    for session in _upcoming_sessions(registration.seminar, now):
        record(MessageKind.INVITATION, registration, session, revision=session.revision,
               facts={"sequence": session.revision})


def registration_waitlisted(registration: Registration) -> None:
    record(MessageKind.WAITLISTED, registration)


def registration_cancelled(registration: Registration, *, was_confirmed: bool,
                           now: datetime | None = None) -> None:
    """The participant cancelled: a confirmation of that and, for a place, a CANCEL per session."""
    now = now or utcnow()
    record(MessageKind.REGISTRATION_CANCELLED, registration)
    if not was_confirmed:
        return
    for session in _upcoming_sessions(registration.seminar, now):
        # one above the last REQUEST the calendar has seen for this registration's copy of the event
        record(MessageKind.SESSION_CANCEL, registration, session, revision=session.revision,
               facts={"sequence": session.revision + 1, "by": "participant"})


def confirmed_registrations(seminar: Seminar) -> list[Registration]:
    return list(db.session.scalars(
        db.select(Registration)
        .where(Registration.seminar_id == seminar.id,
               Registration.status == RegistrationStatus.CONFIRMED)
        .order_by(Registration.id)
    ))


def session_changed(session: Session, old: dict) -> int:
    """The session moved or its place changed (its revision already raised): an update to everyone on it.

    `old` holds what participants had: starts_at, ends_at (ISO strings), place.
    """
    registrations = confirmed_registrations(session.seminar)
    for registration in registrations:
        record(MessageKind.INVITATION, registration, session, revision=session.revision,
               facts={"sequence": session.revision, "changed": old})
    return len(registrations)


def session_cancelled(session: Session, *, reason: str = "") -> int:
    """The session was cancelled (its revision already raised): a CANCEL to everyone on it."""
    registrations = confirmed_registrations(session.seminar)
    for registration in registrations:
        record(MessageKind.SESSION_CANCEL, registration, session, revision=session.revision,
               facts={"sequence": session.revision, "by": "office", "reason": reason})
    return len(registrations)


def seminar_cancelled(seminar: Seminar, sessions: list[Session], *, reason: str) -> int:
    """The whole seminar was cancelled: everyone active is told why; those with a place get a CANCEL per session."""
    active = list(db.session.scalars(
        db.select(Registration)
        .where(Registration.seminar_id == seminar.id,
               Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)))
        .order_by(Registration.id)
    ))
    for registration in active:
        record(MessageKind.SEMINAR_CANCELLED, registration, facts={"reason": reason})
        if registration.status == RegistrationStatus.CONFIRMED:
            for session in sessions:
                record(MessageKind.SESSION_CANCEL, registration, session, revision=session.revision,
                       facts={"sequence": session.revision, "by": "office", "reason": reason,
                              "seminar_cancelled": True})
    return len(active)
