"""The email log: what the outbox holds, read page by page, and sending a failed message again.

The workspace's email log (booking/admin/emails.py) and `flask booking outbox` use these same
functions, so a retry follows one rule wherever it is asked for.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from .. import audit
from ..database import utcnow
from ..extensions import db
from ..registrations.models import Registration
from ..seminars.models import Seminar, Session
from .models import MessageKind, MessageStatus, OutboxMessage

log = logging.getLogger(__name__)

# A filter beside the states: pending messages the mail server has refused for now (tried again later).
WAITING = "waiting"

STATE_LABELS = {
    MessageStatus.PENDING: _l("Waiting to be sent"),
    MessageStatus.SENDING: _l("Being sent"),
    MessageStatus.SENT: _l("Sent"),
    MessageStatus.FAILED: _l("Failed"),
    MessageStatus.SKIPPED: _l("Not sent (no longer needed)"),
}
FILTER_STATE_LABELS = {**STATE_LABELS, WAITING: _l("Waiting for the mail server")}

KIND_LABELS = {
    MessageKind.CONFIRMATION: _l("Confirmation"),
    MessageKind.PROMOTION: _l("Place from the waiting list"),
    MessageKind.WAITLISTED: _l("On the waiting list"),
    MessageKind.INVITATION: _l("Calendar invitation"),
    MessageKind.SESSION_CANCEL: _l("Session cancelled (calendar)"),
    MessageKind.REGISTRATION_CANCELLED: _l("Registration cancelled"),
    MessageKind.SEMINAR_CANCELLED: _l("Seminar cancelled"),
    MessageKind.REMINDER: _l("Reminder"),
    MessageKind.OFFER: _l("Place offered (late place)"),
    MessageKind.OFFER_EXPIRED: _l("Offered place not accepted in time"),
    MessageKind.GROUP_REGISTERED: _l("Group registered (to the contact person)"),
    MessageKind.LINKS: _l("Personal links"),
    MessageKind.MEMBERS_UPDATE: _l("News about members (to the contact person)"),
    MessageKind.OFFICE_MESSAGE: _l("Message from the office"),
    MessageKind.CERTIFICATE_READY: _l("Certificate of attendance ready"),
    MessageKind.USER_INVITATION: _l("Invitation to the workspace"),
    MessageKind.PASSWORD_RESET: _l("Link to set a new password"),
}


class RetryRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def retry_message(message: OutboxMessage) -> OutboxMessage:
    """Queue a failed message again, with a fresh allowance of attempts; flushes, never commits.

    Only a failed message: one still pending is being tried already, and a sent or skipped one
    must not go out twice. The message is read again under a row lock, so two coordinators
    pressing "send again" at once queue it once. Recorded in the audit log.
    """
    locked = db.session.scalar(
        db.select(OutboxMessage).where(OutboxMessage.id == message.id)
        .with_for_update().execution_options(populate_existing=True))
    if locked is None or locked.status != MessageStatus.FAILED:
        raise RetryRefused(_l("Only a failed message can be sent again."))
    locked.status = MessageStatus.PENDING
    locked.attempts = 0
    locked.next_attempt_at = utcnow()
    db.session.flush()
    registration = locked.registration
    audit.record("email.retried", seminar=seminar_of(locked), registration=registration,
                 message_id=locked.id, kind=locked.kind.value)
    log.info("outbox message %s queued again", locked.id)
    return locked


# --- reading the log ---------------------------------------------------------------------------

def seminar_clause(seminar_id: int):
    """Messages about this seminar: a registration's or a session's, and a contact's about its members."""
    registration_ids = db.select(Registration.id).where(Registration.seminar_id == seminar_id)
    session_ids = db.select(Session.id).where(Session.seminar_id == seminar_id)
    facts = OutboxMessage.facts
    return or_(
        OutboxMessage.registration_id.in_(registration_ids),
        OutboxMessage.session_id.in_(session_ids),
        facts["seminar_id"].as_integer() == seminar_id,  # MEMBERS_UPDATE
        facts["attempted_seminar_id"].as_integer() == seminar_id,  # LINKS after a second registration
        facts[("registration_ids", 0)].as_integer().in_(registration_ids),  # GROUP_REGISTERED
    )


@dataclass
class LogPage:
    messages: list[OutboxMessage]
    page: int
    pages: int
    total: int


def email_log(*, state: str | None = None, seminar_id: int | None = None, page: int = 1,
              per_page: int = 50) -> LogPage:
    """One page of the outbox, newest first, filtered by state (or WAITING) and seminar."""
    query = db.select(OutboxMessage)
    if state == WAITING:
        query = query.where(OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.attempts > 0)
    elif state:
        query = query.where(OutboxMessage.status == MessageStatus(state))
    if seminar_id is not None:
        query = query.where(seminar_clause(seminar_id))
    total = db.session.scalar(query.with_only_columns(db.func.count(OutboxMessage.id)).order_by(None)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    messages = list(db.session.scalars(
        query.options(selectinload(OutboxMessage.registration).selectinload(Registration.seminar),
                      selectinload(OutboxMessage.session).selectinload(Session.seminar))
        .order_by(OutboxMessage.id.desc()).offset((page - 1) * per_page).limit(per_page)))
    return LogPage(messages, page, pages, total)


def seminar_of(message: OutboxMessage) -> Seminar | None:
    """The seminar a message is about, if it is about one (a "lost your link?" email is not)."""
    if message.registration is not None and message.kind != MessageKind.LINKS:
        return message.registration.seminar
    if message.session is not None:
        return message.session.seminar
    facts = message.facts or {}
    for key in ("seminar_id", "attempted_seminar_id"):
        if isinstance(facts.get(key), int):
            return db.session.get(Seminar, facts[key])
    if message.kind == MessageKind.GROUP_REGISTERED and facts.get("registration_ids"):
        registration = db.session.get(Registration, facts["registration_ids"][0])
        return registration.seminar if registration is not None else None
    return None


def seminars_with_messages() -> list[Seminar]:
    """The seminars to filter the log by: every seminar, the latest first."""
    first_start = db.select(db.func.min(Session.starts_at)).where(Session.seminar_id == Seminar.id).scalar_subquery()
    return list(db.session.scalars(db.select(Seminar).order_by(first_start.desc(), Seminar.id.desc())))
