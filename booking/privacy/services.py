"""The privacy rules: what is kept about a person, for how long, and how it goes.

- `anonymise_registration` removes a registration's personal data (names, address, phone, needs)
  and what the email log and the audit log hold about it, but keeps the row: its seminar, status,
  association and timestamps still count in reports and attendance.
- `delete_registration` is the participant's own "delete my data" on the manage link: an active
  registration is cancelled first (the place goes to the waiting list, calendars get the CANCEL),
  then anonymised at once.
- `purge` applies the retention periods (BOOKING_*_RETENTION_DAYS) at a given moment; the worker
  runs it once a day (`purge_if_due`, remembered through the audit log) and `flask booking purge`
  on demand.
- `export_registration` gathers everything held about one registration for its download.

Emails still waiting to go out (a CANCEL for the person's calendar, the confirmation that the
registration was cancelled) keep the address they go to until they are sent; they are rendered
without the person's name, and the next purge clears them.

Everything here flushes; the request or the command commits.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app

from .. import audit
from ..associations.models import Association, AssociationContact, AssociationStatus, LinkRequest
from ..database import utcnow
from ..extensions import db
from ..mail.models import CONTACT_KINDS, DeliveryAttempt, MessageStatus, OutboxMessage
from ..registrations import services as registrations
from ..registrations.models import Registration
from ..seminars.models import Session

log = logging.getLogger(__name__)

PURGE_ACTION = "privacy.purged"
# "Lost your link?" rows only limit how often links go out (once an hour): a day is plenty.
LINK_REQUEST_RETENTION = timedelta(days=1)
PURGE_EVERY = timedelta(days=1)
UNSENT = (MessageStatus.PENDING, MessageStatus.SENDING)
# Free text in an outbox row's facts that can be about a person (an office's note or message,
# names of people whose link was sent instead); the rest (sequence numbers, ids, a session's old
# time) is what the email log needs to show which kind of message it was.
PERSONAL_FACTS = ("note", "subject", "body", "links_sent")
# Audit details kept on anonymising: flags and numbers, and the registration's status.
KEPT_AUDIT_TEXT = ("status",)


def retention_days(name: str) -> timedelta:
    return timedelta(days=int(current_app.config[name]))


def retention_periods() -> dict[str, int]:
    """The periods in days, as the privacy notice states them (from the same settings the purge uses)."""
    config = current_app.config
    return {"after_seminar": int(config["BOOKING_RETENTION_DAYS"]),
            "after_cancellation": int(config["BOOKING_CANCELLED_RETENTION_DAYS"]),
            "needs": int(config["BOOKING_NEEDS_RETENTION_DAYS"]),
            "email_log": int(config["BOOKING_EMAIL_LOG_RETENTION_DAYS"])}


# --- one registration ------------------------------------------------------------------------

def scrub_message(message: OutboxMessage) -> None:
    """Keep that a message of this kind went out when; forget to whom and what it said."""
    message.recipient = ""
    message.subject = message.body_text = message.body_html = message.calendar = None
    message.last_error = None
    message.facts = {key: value for key, value in (message.facts or {}).items() if key not in PERSONAL_FACTS}
    db.session.execute(db.delete(DeliveryAttempt).where(DeliveryAttempt.message_id == message.id))


def _messages_about(registration: Registration) -> list[OutboxMessage]:
    """The registration's own messages, and a contact's messages that name it (a group overview...)."""
    own = list(db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.registration_id == registration.id)))
    naming = [message for message in db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.kind.in_(CONTACT_KINDS), OutboxMessage.recipient != ""))
        if registration.id in (message.facts or {}).get("registration_ids", [])]
    return own + naming


def anonymise_registration(registration: Registration, *, now: datetime | None = None) -> None:
    """Remove the registration's personal data, keeping what anonymous counts need. Flushes."""
    now = now or utcnow()
    registration.first_name = ""
    registration.last_name = ""
    registration.email = None
    registration.email_key = None
    registration.phone = None
    registration.needs = None
    registration.anonymised_at = now
    for message in _messages_about(registration):
        if message.status in UNSENT and message.registration_id == registration.id:
            continue  # still to go out (a calendar's CANCEL): it keeps its address until sent
        scrub_message(message)
    for entry in db.session.scalars(db.select(audit.AuditEntry).where(
            audit.AuditEntry.registration_id == registration.id)):
        entry.detail = {key: value for key, value in (entry.detail or {}).items()
                        if key in KEPT_AUDIT_TEXT or value is None or isinstance(value, (bool, int, float))}
    db.session.flush()
    log.info("registration %s: personal data removed", registration.public_id)


def delete_registration(registration: Registration, *, now: datetime | None = None) -> list[Registration]:
    """The participant deletes their registration: cancelled first if it still holds a place or
    waits for one (the place goes on, calendars get the CANCEL), then anonymised at once.

    Returns the registrations promoted from the waiting list. Deleting twice changes nothing.
    """
    now = now or utcnow()
    promoted: list[Registration] = []
    if registration.is_anonymised:
        return promoted
    if registration.can_cancel(now):
        try:
            promoted = registrations.cancel_registration(registration, now=now)
        except registrations.CancellationRefused:
            pass  # cancelled meanwhile (another tab, the office): there is only the data left to delete
    anonymise_registration(registration, now=now)
    audit.record("registration.deleted", registration=registration)
    return promoted


def export_registration(registration: Registration) -> dict:
    """Everything held about the person behind this registration, for their download."""
    seminar = registration.seminar
    messages = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.registration_id == registration.id).order_by(OutboxMessage.id))
    entries = db.session.scalars(
        db.select(audit.AuditEntry).where(audit.AuditEntry.registration_id == registration.id)
        .order_by(audit.AuditEntry.at, audit.AuditEntry.id))

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "registration": {
            "reference": registration.public_id,
            "seminar": {"title": seminar.title, "slug": seminar.slug,
                        "sessions": [{"starts_at": when(s.starts_at), "ends_at": when(s.ends_at),
                                      "status": str(s.status)} for s in seminar.sessions]},
            "first_name": registration.first_name,
            "last_name": registration.last_name,
            "email": registration.email,
            "phone": registration.phone,
            "preferred_language": registration.preferred_language,
            "needs": registration.needs,
            "association": registration.association.name if registration.association else None,
            "registered_by_contact": registration.registered_by.full_name if registration.registered_by else None,
            "status": str(registration.status),
            "consent_at": when(registration.consent_at),
            "created_at": when(registration.created_at),
            "confirmed_at": when(registration.confirmed_at),
            "cancelled_at": when(registration.cancelled_at),
            "attendance_confirmed_at": when(registration.attendance_confirmed_at),
            "place_offered_at": when(registration.offered_at),
            "place_offered_until": when(registration.offer_expires_at),
        },
        "emails": [{
            "kind": str(message.kind), "status": str(message.status), "to": message.recipient,
            "created_at": when(message.created_at), "sent_at": when(message.sent_at),
            "subject": message.subject, "text": message.body_text,
        } for message in messages],
        "audit_log": [{
            "at": when(entry.at), "action": entry.action, "by": audit.actor_label(entry), "detail": entry.detail,
        } for entry in entries],
    }


# --- retention -------------------------------------------------------------------------------

@dataclass
class PurgeCounts:
    registrations_after_seminar: int = 0
    cancelled_registrations: int = 0
    needs: int = 0
    email_log_entries: int = 0
    delivery_attempts: int = 0
    link_requests: int = 0
    association_contacts: int = 0
    association_names: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())


def _seminar_ended_before(moment: datetime):
    """Registrations whose seminar's last session (cancelled ones included) ended before `moment`."""
    last_end = (db.select(Session.seminar_id, db.func.max(Session.ends_at).label("last_end"))
                .group_by(Session.seminar_id).subquery())
    return db.select(Registration).join(last_end, last_end.c.seminar_id == Registration.seminar_id).where(
        last_end.c.last_end < moment)


def purge(now: datetime | None = None) -> PurgeCounts:
    """Apply every retention period at `now`: what is due goes. Flushes; the caller commits (or,
    for a dry run, rolls back: the counts are then what would go)."""
    now = now or utcnow()
    counts = PurgeCounts()

    for registration in db.session.scalars(_seminar_ended_before(now - retention_days("BOOKING_RETENTION_DAYS"))
                                           .where(Registration.anonymised_at.is_(None))):
        anonymise_registration(registration, now=now)
        counts.registrations_after_seminar += 1
    for registration in db.session.scalars(db.select(Registration).where(
            Registration.anonymised_at.is_(None), Registration.cancelled_at.is_not(None),
            Registration.cancelled_at < now - retention_days("BOOKING_CANCELLED_RETENTION_DAYS"))):
        anonymise_registration(registration, now=now)
        counts.cancelled_registrations += 1
    for registration in db.session.scalars(_seminar_ended_before(now - retention_days("BOOKING_NEEDS_RETENTION_DAYS"))
                                           .where(Registration.needs.is_not(None))):
        registration.needs = None
        counts.needs += 1

    # The email log: what was sent (and to whom) is kept for BOOKING_EMAIL_LOG_RETENTION_DAYS,
    # and no longer once the registration it was about has been anonymised.
    old = now - retention_days("BOOKING_EMAIL_LOG_RETENTION_DAYS")
    anonymised = db.select(Registration.id).where(Registration.anonymised_at.is_not(None))
    for message in db.session.scalars(db.select(OutboxMessage).where(
            OutboxMessage.status.not_in(UNSENT),
            db.or_(OutboxMessage.recipient != "", OutboxMessage.subject.is_not(None),
                   OutboxMessage.last_error.is_not(None)),
            db.or_(OutboxMessage.created_at < old, OutboxMessage.registration_id.in_(anonymised)))):
        scrub_message(message)
        counts.email_log_entries += 1
    counts.delivery_attempts = db.session.execute(
        db.delete(DeliveryAttempt).where(DeliveryAttempt.attempted_at < old)).rowcount or 0
    counts.link_requests = db.session.execute(
        db.delete(LinkRequest).where(LinkRequest.requested_at < now - LINK_REQUEST_RETENTION)).rowcount or 0

    # A contact goes once none of the registrations they made still holds personal data and no
    # email to them waits to go out.
    kept_registrations = db.select(Registration.registered_by_contact_id).where(
        Registration.anonymised_at.is_(None), Registration.registered_by_contact_id.is_not(None))
    waiting_mail = db.select(OutboxMessage.contact_id).where(
        OutboxMessage.status.in_(UNSENT), OutboxMessage.contact_id.is_not(None))
    for contact in db.session.scalars(db.select(AssociationContact).where(
            AssociationContact.id.not_in(kept_registrations), AssociationContact.id.not_in(waiting_mail))):
        db.session.execute(db.update(Registration).where(Registration.registered_by_contact_id == contact.id)
                           .values(registered_by_contact_id=None).execution_options(synchronize_session=False))
        contact_messages = db.select(OutboxMessage.id).where(OutboxMessage.contact_id == contact.id)
        db.session.execute(db.delete(DeliveryAttempt).where(DeliveryAttempt.message_id.in_(contact_messages)))
        db.session.execute(db.delete(OutboxMessage).where(OutboxMessage.contact_id == contact.id)
                           .execution_options(synchronize_session=False))
        db.session.delete(contact)
        counts.association_contacts += 1
    db.session.flush()

    # A name typed on the public form that no registration (and no contact) uses.
    used = db.select(Registration.association_id).where(Registration.association_id.is_not(None))
    used_by_contacts = db.select(AssociationContact.association_id).where(
        AssociationContact.association_id.is_not(None))
    for association in db.session.scalars(db.select(Association).where(
            Association.status == AssociationStatus.PENDING, Association.id.not_in(used),
            Association.id.not_in(used_by_contacts))):
        db.session.delete(association)
        counts.association_names += 1
    db.session.flush()
    db.session.expire_all()
    log.info("privacy purge: %s", ", ".join(f"{key} {value}" for key, value in counts.as_dict().items()))
    return counts


def last_purge_at() -> datetime | None:
    return db.session.scalar(db.select(db.func.max(audit.AuditEntry.at)).where(audit.AuditEntry.action == PURGE_ACTION))


def record_purge(counts: PurgeCounts, now: datetime) -> None:
    """The audit log keeps that (and when, by the purge's own clock) a purge ran, with its counts."""
    audit.record(PURGE_ACTION, **counts.as_dict()).at = now


def purge_if_due(now: datetime | None = None) -> PurgeCounts | None:
    """The worker's daily pass: purge unless a purge ran within the last day (the audit log
    remembers it across restarts). Returns the counts, or None if not due. Flushes."""
    now = now or utcnow()
    last = last_purge_at()
    if last is not None and last > now - PURGE_EVERY:
        return None
    counts = purge(now)
    record_purge(counts, now)
    return counts
