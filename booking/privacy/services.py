"""The privacy rules: what is kept about a person, for how long, and how it goes.

- `anonymise_registration` removes a registration's personal data (names, address, phone, needs)
  and what the email log and the audit log hold about it, but keeps the row: its seminar, status,
  association and timestamps still count in reports and attendance.
- `delete_registration` is the participant's own "delete my data" on the manage link: an active
  registration is cancelled first (the place goes to the waiting list, calendars get the CANCEL),
  then anonymised at once.
- `purge` applies the retention periods (BOOKING_*_RETENTION_DAYS) at a given moment; the worker
  runs it once a day (`purge_if_due`, remembered through the audit log) and `flask booking purge`
  on demand. It works on sets of rows, a batch at a time (a fixed number of statements per batch,
  whatever its size), and lets its caller commit between batches: a first purge over years of
  data holds the write lock for a moment per batch, never for the whole run.
- `export_registration` gathers everything held about one registration for its download.

Emails still waiting to go out (a CANCEL for the person's calendar, the confirmation that the
registration was cancelled) keep the address they go to until they are sent; they are rendered
without the person's name, and the next purge clears them.

Everything here flushes; the request or the command commits (the purge: the caller's `after_batch`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
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
# Rows per batch of the purge: each batch is a few statements and, in the worker, one short transaction.
PURGE_BATCH = 500
# What a scrubbed email log entry keeps of what was sent: nothing.
SCRUBBED = {"recipient": "", "subject": None, "body_text": None, "body_html": None, "calendar": None,
            "last_error": None}


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

def _without_personal_facts(facts: dict | None) -> dict:
    return {key: value for key, value in (facts or {}).items() if key not in PERSONAL_FACTS}


def scrub_message(message: OutboxMessage) -> None:
    """Keep that a message of this kind went out when; forget to whom and what it said."""
    for name, value in SCRUBBED.items():
        setattr(message, name, value)
    message.facts = _without_personal_facts(message.facts)
    db.session.execute(db.delete(DeliveryAttempt).where(DeliveryAttempt.message_id == message.id))


def _scrub_messages(ids: list[int]) -> None:
    """`scrub_message` for many rows at once: four statements at most, whatever their number."""
    if not ids:
        return
    db.session.execute(db.update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**SCRUBBED)
                       .execution_options(synchronize_session=False))
    # facts are JSON: only the few rows whose text names a personal key are read and rewritten
    may_hold = db.or_(*(db.cast(OutboxMessage.facts, db.Text).like(f'%"{key}"%') for key in PERSONAL_FACTS))
    rewritten = [{"id": message_id, "facts": _without_personal_facts(facts)}
                 for message_id, facts in db.session.execute(
                     db.select(OutboxMessage.id, OutboxMessage.facts).where(OutboxMessage.id.in_(ids), may_hold))
                 if any(key in (facts or {}) for key in PERSONAL_FACTS)]
    if rewritten:
        db.session.execute(db.update(OutboxMessage), rewritten)  # one executemany, by primary key
    db.session.execute(db.delete(DeliveryAttempt).where(DeliveryAttempt.message_id.in_(ids))
                       .execution_options(synchronize_session=False))


class _ContactMessagesNaming:
    """Which contact messages (a group overview, a list of links...) name which registrations.

    Read once (every contact message not yet scrubbed, one statement) and then asked for batch
    after batch, instead of reading every contact message again for each registration. A contact
    message recorded after it was read is scrubbed by the email log's period like any other."""

    def __init__(self):
        self.by_registration: dict[int, list[tuple[int, int | None, bool]]] = {}
        for message_id, registration_id, status, facts in db.session.execute(
                db.select(OutboxMessage.id, OutboxMessage.registration_id, OutboxMessage.status, OutboxMessage.facts)
                .where(OutboxMessage.kind.in_(CONTACT_KINDS), OutboxMessage.recipient != "")):
            for named in (facts or {}).get("registration_ids") or []:
                self.by_registration.setdefault(named, []).append((message_id, registration_id, status in UNSENT))

    def to_scrub(self, registration_ids: list[int]) -> set[int]:
        """The messages naming these registrations; one still to go out for one of them as its
        own registration keeps its address until sent (as that registration's own messages do)."""
        return {message_id for named in registration_ids
                for message_id, own, unsent in self.by_registration.get(named, ())
                if not (unsent and own == named)}


def _anonymise_about(registration_ids: list[int], naming: _ContactMessagesNaming) -> None:
    """The email log and the audit log of these registrations, without their personal data.

    A fixed number of statements for the whole list (its messages are scrubbed together)."""
    own = db.session.scalars(db.select(OutboxMessage.id).where(
        OutboxMessage.registration_id.in_(registration_ids),
        # still to go out (a calendar's CANCEL): it keeps its address until sent
        OutboxMessage.status.not_in(UNSENT)))
    _scrub_messages(sorted(set(own) | naming.to_scrub(registration_ids)))
    rewritten = []
    for entry_id, detail in db.session.execute(db.select(audit.AuditEntry.id, audit.AuditEntry.detail).where(
            audit.AuditEntry.registration_id.in_(registration_ids))):
        kept = {key: value for key, value in (detail or {}).items()
                if key in KEPT_AUDIT_TEXT or value is None or isinstance(value, (bool, int, float))}
        if kept != (detail or {}):
            rewritten.append({"id": entry_id, "detail": kept})
    if rewritten:
        db.session.execute(db.update(audit.AuditEntry), rewritten)  # one executemany, by primary key


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
    db.session.flush()
    _anonymise_about([registration.id], _ContactMessagesNaming())
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
    over = db.select(Session.seminar_id).group_by(Session.seminar_id).having(db.func.max(Session.ends_at) < moment)
    return Registration.seminar_id.in_(over)


def _batches(ids_due, batch_size: int, after_batch: Callable[[], None] | None) -> Iterator[list[int]]:
    """The ids `ids_due` selects (one id column, ascending), `batch_size` at a time: each batch
    goes on after the last id of the one before, so no batch reads again past the rows done
    already. After each batch: flush, then `after_batch`.

    On PostgreSQL the rows of a batch are locked and locked ones skipped: two workers purging at
    once share the work instead of doing it twice (SQLite has one writer at a time anyway)."""
    column = ids_due.selected_columns[0]
    last = None
    while True:
        query = ids_due if last is None else ids_due.where(column > last)
        ids = list(db.session.scalars(query.order_by(column).limit(batch_size).with_for_update(skip_locked=True)))
        if not ids:
            return
        yield ids
        last = ids[-1]
        db.session.flush()
        if after_batch is not None:
            after_batch()


def purge(now: datetime | None = None, *, batch_size: int = PURGE_BATCH,
          after_batch: Callable[[], None] | None = None) -> PurgeCounts:
    """Apply every retention period at `now`: what is due goes, `batch_size` rows at a time, each
    batch a fixed number of statements. Flushes; the caller commits: between batches if it gives
    `after_batch` (the worker and `flask booking purge --yes` commit there, so the write lock is
    held for one batch at a time), and at the end. Without it, one transaction: a dry run rolls
    it back, and the counts are then what would go."""
    now = now or utcnow()
    counts = PurgeCounts()
    naming = _ContactMessagesNaming()

    def anonymise(due) -> int:
        done = 0
        for ids in _batches(db.select(Registration.id).where(due, Registration.anonymised_at.is_(None)),
                            batch_size, after_batch):
            db.session.execute(db.update(Registration).where(Registration.id.in_(ids)).values(
                first_name="", last_name="", email=None, email_key=None, phone=None, needs=None, anonymised_at=now)
                .execution_options(synchronize_session=False))
            _anonymise_about(ids, naming)
            done += len(ids)
            log.info("privacy purge: registrations %s to %s (%s) anonymised", ids[0], ids[-1], len(ids))
        return done

    counts.registrations_after_seminar = anonymise(
        _seminar_ended_before(now - retention_days("BOOKING_RETENTION_DAYS")))
    counts.cancelled_registrations = anonymise(db.and_(
        Registration.cancelled_at.is_not(None),
        Registration.cancelled_at < now - retention_days("BOOKING_CANCELLED_RETENTION_DAYS")))
    for ids in _batches(db.select(Registration.id).where(
            _seminar_ended_before(now - retention_days("BOOKING_NEEDS_RETENTION_DAYS")),
            Registration.needs.is_not(None)), batch_size, after_batch):
        db.session.execute(db.update(Registration).where(Registration.id.in_(ids)).values(needs=None)
                           .execution_options(synchronize_session=False))
        counts.needs += len(ids)

    # The email log: what was sent (and to whom) is kept for BOOKING_EMAIL_LOG_RETENTION_DAYS,
    # and no longer once the registration it was about has been anonymised.
    old = now - retention_days("BOOKING_EMAIL_LOG_RETENTION_DAYS")
    anonymised = db.select(Registration.id).where(Registration.anonymised_at.is_not(None))
    for ids in _batches(db.select(OutboxMessage.id).where(
            OutboxMessage.status.not_in(UNSENT),
            db.or_(OutboxMessage.recipient != "", OutboxMessage.subject.is_not(None),
                   OutboxMessage.last_error.is_not(None)),
            db.or_(OutboxMessage.created_at < old, OutboxMessage.registration_id.in_(anonymised))),
            batch_size, after_batch):
        _scrub_messages(ids)
        counts.email_log_entries += len(ids)
    for ids in _batches(db.select(DeliveryAttempt.id).where(DeliveryAttempt.attempted_at < old),
                        batch_size, after_batch):
        db.session.execute(db.delete(DeliveryAttempt).where(DeliveryAttempt.id.in_(ids))
                           .execution_options(synchronize_session=False))
        counts.delivery_attempts += len(ids)
    counts.link_requests = db.session.execute(
        db.delete(LinkRequest).where(LinkRequest.requested_at < now - LINK_REQUEST_RETENTION)
        .execution_options(synchronize_session=False)).rowcount or 0

    # A contact goes once none of the registrations they made still holds personal data and no
    # email to them waits to go out. (A few hundred at most: one set of statements for them all.)
    kept_registrations = db.select(Registration.registered_by_contact_id).where(
        Registration.anonymised_at.is_(None), Registration.registered_by_contact_id.is_not(None))
    waiting_mail = db.select(OutboxMessage.contact_id).where(
        OutboxMessage.status.in_(UNSENT), OutboxMessage.contact_id.is_not(None))
    contact_ids = list(db.session.scalars(db.select(AssociationContact.id).where(
        AssociationContact.id.not_in(kept_registrations), AssociationContact.id.not_in(waiting_mail))))
    if contact_ids:
        db.session.execute(db.update(Registration).where(Registration.registered_by_contact_id.in_(contact_ids))
                           .values(registered_by_contact_id=None).execution_options(synchronize_session=False))
        contact_messages = db.select(OutboxMessage.id).where(OutboxMessage.contact_id.in_(contact_ids))
        db.session.execute(db.delete(DeliveryAttempt).where(DeliveryAttempt.message_id.in_(contact_messages))
                           .execution_options(synchronize_session=False))
        db.session.execute(db.delete(OutboxMessage).where(OutboxMessage.contact_id.in_(contact_ids))
                           .execution_options(synchronize_session=False))
        db.session.execute(db.delete(AssociationContact).where(AssociationContact.id.in_(contact_ids))
                           .execution_options(synchronize_session=False))
        counts.association_contacts = len(contact_ids)

    # A name typed on the public form that no registration (and no contact) uses.
    used = db.select(Registration.association_id).where(Registration.association_id.is_not(None))
    used_by_contacts = db.select(AssociationContact.association_id).where(
        AssociationContact.association_id.is_not(None))
    counts.association_names = db.session.execute(db.delete(Association).where(
        Association.status == AssociationStatus.PENDING, Association.id.not_in(used),
        Association.id.not_in(used_by_contacts)).execution_options(synchronize_session=False)).rowcount or 0
    db.session.flush()
    db.session.expire_all()  # the objects a caller holds were changed behind the session's back
    log.info("privacy purge: %s", ", ".join(f"{key} {value}" for key, value in counts.as_dict().items()))
    return counts


def last_purge_at() -> datetime | None:
    return db.session.scalar(db.select(db.func.max(audit.AuditEntry.at)).where(audit.AuditEntry.action == PURGE_ACTION))


def record_purge(counts: PurgeCounts, now: datetime) -> None:
    """The audit log keeps that (and when, by the purge's own clock) a purge ran, with its counts."""
    audit.record(PURGE_ACTION, **counts.as_dict()).at = now


def purge_if_due(now: datetime | None = None, *, after_batch: Callable[[], None] | None = None
                 ) -> PurgeCounts | None:
    """The worker's daily pass: purge unless a purge ran within the last day (the audit log
    remembers it across restarts). Returns the counts, or None if not due. Flushes; `after_batch`
    as for `purge`."""
    now = now or utcnow()
    last = last_purge_at()
    if last is not None and last > now - PURGE_EVERY:
        return None
    counts = purge(now, after_batch=after_batch)
    record_purge(counts, now)
    return counts
