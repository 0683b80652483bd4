"""Delivering the outbox: claim due rows, render, send over SMTP, record the outcome.

- Claims are taken with FOR UPDATE SKIP LOCKED on PostgreSQL (several workers never take the
  same row) and under SQLite's single write lock there; a claim expires, so rows of a worker that
  died mid-batch are taken up again and nothing is lost.
- A batch goes out in chunks (CHUNK messages): loaded in one query, decided and rendered in a
  reading transaction (on SQLite without the write lock), stored in one short transaction before
  anything is handed to the server (a row that cannot hold its email fails unsent), sent over one
  SMTP connection outside any transaction, and their outcomes committed in one short transaction.
- One message's failure never stops the others: anything that goes wrong while handling it
  (rendering, storing, sending, recording) is recorded on that message alone, in a transaction of
  its own, and the batch goes on. A message the server had already accepted is recorded as sent
  even if storing that failed, so it is never delivered twice.
- Temporary failures (4xx answers, a server that is down) are retried with growing back-off;
  permanent ones (5xx, an invalid address) are marked failed with the server's answer.
- A message made pointless before it went out (an invitation superseded by a later revision,
  a reminder for a session that was cancelled) is skipped, with the reason kept.
- Without MAIL_SERVER, messages are written to the log and kept in the email log, so a demo works.
- Log lines name message ids and kinds, never an address, a name, a subject or a server's answer
  (which may quote the address); tracebacks are logged without exception messages for the same reason.
"""
from __future__ import annotations

import hashlib
import logging
import mailbox
import os
import smtplib
import socket
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_mail import BadHeaderError
from sqlalchemy.exc import DBAPIError, OperationalError, StatementError
from sqlalchemy.orm import joinedload

from ..database import begin_write, commit_between_batches, utcnow
from ..extensions import db, mail
from ..redaction import redact, redact_calendar
from ..registrations.models import Registration, RegistrationStatus
from ..seminars.models import Seminar, SessionStatus
from .message import CalendarMessage
from .models import CONTACT_KINDS, STAFF_KINDS, DeliveryAttempt, MessageKind, MessageStatus, OutboxMessage
from .render import base_url_context, render_message

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=10)
# Messages rendered and stored together, sent over one connection, their outcomes committed
# together. A worker killed between sending and recording sends at most these again (with the
# same Message-ID, which lets a receiving server drop the copy).
CHUNK = 25
POSTPONE = timedelta(seconds=30)
# last_error and an attempt's detail are for the email log: a line, not a server's whole transcript
MAX_DETAIL = 1000


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    postponed: int = 0
    ids: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped + self.postponed


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class Postpone(Exception):
    pass


class ServerUnreachable(Exception):
    """No connection to the mail server: no message's fault, so it never makes one fail for good."""


SERVER_DOWN_RETRY = timedelta(minutes=1)


# --- claiming ----------------------------------------------------------------------------------

def claim_due(now: datetime, limit: int) -> list[int]:
    """Mark up to `limit` due messages as ours for CLAIM_FOR, and commit. Oldest first."""
    begin_write()
    due = (
        db.select(OutboxMessage.id)
        .where(
            db.or_(
                db.and_(OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.next_attempt_at <= now),
                # a claim that ran out: its worker died or hung
                db.and_(OutboxMessage.status == MessageStatus.SENDING, OutboxMessage.claimed_until <= now),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(
            db.update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=MessageStatus.SENDING, claimed_until=now + CLAIM_FOR)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids


# --- deciding ----------------------------------------------------------------------------------

def _other(message: OutboxMessage, *kinds: MessageKind):
    return (
        db.select(OutboxMessage)
        .where(OutboxMessage.registration_id == message.registration_id,
               OutboxMessage.session_id == message.session_id,
               OutboxMessage.kind.in_(kinds),
               OutboxMessage.id != message.id)
    )


def skip_reason(message: OutboxMessage, now: datetime) -> str | None:
    """Why this message has become pointless, or None to send it. Raises Postpone to wait."""
    registration = message.registration
    kind = message.kind
    if kind == MessageKind.MEMBERS_UPDATE:
        return _members_update_skip_reason(message, now)
    if kind in CONTACT_KINDS:
        return None  # a contact's own message: nothing later can make it pointless
    if kind in STAFF_KINDS:
        return _staff_skip_reason(message, now)
    if kind == MessageKind.INVITATION:
        newer = db.session.scalar(
            _other(message, MessageKind.INVITATION, MessageKind.SESSION_CANCEL)
            .where(db.or_(OutboxMessage.revision > message.revision,
                          OutboxMessage.kind == MessageKind.SESSION_CANCEL))
            .limit(1))
        if newer is not None:
            return "superseded by a later change"
        if message.session.ends_at <= now:
            return "the session is over"
    elif kind == MessageKind.SESSION_CANCEL:
        invitations = list(db.session.scalars(_other(message, MessageKind.INVITATION)))
        if any(m.status == MessageStatus.SENDING for m in invitations):
            raise Postpone
        if not any(m.status == MessageStatus.SENT for m in invitations):
            return "no invitation for this session had gone out"
    elif kind == MessageKind.REMINDER:
        session = message.session
        if registration.status != RegistrationStatus.CONFIRMED:
            return "the registration is no longer confirmed"
        if session.status != SessionStatus.SCHEDULED or session.revision != message.revision:
            return "the session was cancelled or changed"
        if session.starts_at <= now:
            return "the session has started"
    elif kind in (MessageKind.CONFIRMATION, MessageKind.PROMOTION):
        if registration.status != RegistrationStatus.CONFIRMED:
            return "the registration was cancelled before this went out"
    elif kind == MessageKind.WAITLISTED:
        if registration.status != RegistrationStatus.WAITLISTED:
            return "the registration left the waiting list before this went out"
    elif kind == MessageKind.OFFER:
        if not registration.can_accept_offer(now):
            return "the offer was answered or ran out before this went out"
    elif kind == MessageKind.CERTIFICATE_READY:
        from ..attendance.services import participant_may_download_certificate

        if not participant_may_download_certificate(registration, now=now):
            return "the certificate can no longer be downloaded (attendance changed, or the data was deleted)"
    elif kind == MessageKind.OFFICE_MESSAGE:
        if registration.status == RegistrationStatus.CANCELLED:
            return "the registration was cancelled before this went out"
    return None


def _members_update_skip_reason(message: OutboxMessage, now: datetime) -> str | None:
    """A contact's email about their members: pointless once none of them has a place (a reminder
    also once the session was cancelled, changed or has started). Cancellations always go out."""
    about = message.facts.get("about")
    if about in ("session_cancelled", "seminar_cancelled"):
        return None
    still_confirmed = db.session.scalar(
        db.select(db.func.count(Registration.id)).where(
            Registration.id.in_(message.facts.get("registration_ids") or [-1]),
            Registration.status == RegistrationStatus.CONFIRMED))
    if not still_confirmed:
        return "none of these members has a place any more"
    if about == "reminder":
        session = message.session
        if session.status != SessionStatus.SCHEDULED or session.revision != message.revision:
            return "the session was cancelled or changed"
        if session.starts_at <= now:
            return "the session has started"
    return None


def _staff_skip_reason(message: OutboxMessage, now: datetime) -> str | None:
    """A staff member's one-time link: pointless once it could not work any more."""
    user = message.user
    if not user.active:
        return "the account was deactivated"
    if user.token_version != int(message.facts.get("token_version", -1)):
        return "a password was set (or the account changed) after the link was asked for"
    if datetime.fromisoformat(message.facts["expires_at"]) <= now:
        return "the link expired before it could be sent"
    return None


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after the attempt, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


# --- sending -----------------------------------------------------------------------------------

def _message_id(message: OutboxMessage) -> str:
    # the same for every attempt, so a receiving server can drop a copy sent twice after a crash
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:16]
    domain = current_app.config["BOOKING_MAIL_SENDER"].rpartition("@")[2] or "booking.invalid"
    return f"<booking.{message.id}.{digest}@{domain}>"


def _storable(text: str, limit: int = MAX_DETAIL) -> str:
    """`text` as any database stores it: no NUL (PostgreSQL refuses it), no lone surrogates, cut to `limit`."""
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _short_reason(exc: BaseException) -> str:
    """What went wrong, for the email log: the error's kind and the first line of its message.

    For a database error, the driver's own error (the SQL and its parameters are left out).
    """
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return _storable(f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__, 300)


def _loggable(exc: BaseException) -> str:
    """The kind of an error, without its message (an SMTP answer may quote the address)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "SMTP " + ",".join(str(code) for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}"
    if isinstance(exc, StatementError) and exc.orig is not None:
        return f"{type(exc).__name__} ({type(exc.orig).__name__})"
    return type(exc).__name__


def _traceback_without_values(exc: BaseException) -> str:
    """Where an error came from: the frames of it and of its causes, but not their messages,
    which may quote what a row held (a name, an address, a link with its token)."""
    parts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        frames = "".join(traceback.format_tb(exc.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{type(exc).__module__}.{type(exc).__qualname__}"
                     " (message left out)")
        exc = exc.__cause__ or exc.__context__
    return "\n\nwhile handling an error raised by:\n".join(parts)


def _classify(exc: Exception) -> Exception:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{addr}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
                           for addr, (code, text) in exc.recipients.items())
        if codes and all(code >= 500 for code in codes):
            return PermanentFailure(detail)
        return TemporaryFailure(detail)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        detail = f"{exc.smtp_code} {text}"
        return PermanentFailure(detail) if exc.smtp_code >= 500 else TemporaryFailure(detail)
    if isinstance(exc, (BadHeaderError, ValueError, UnicodeError)):
        return PermanentFailure(f"invalid message or address: {exc}")
    return TemporaryFailure(f"{type(exc).__name__}: {exc}")


class Transport:
    """One SMTP connection per batch, opened when the first message needs it."""

    def __init__(self):
        self.connection = None
        self.server = current_app.config.get("MAIL_SERVER")
        # Once the server could not be reached, the rest of the batch waits for the next pass
        # instead of each message waiting for its own connection timeout.
        self.unreachable: str | None = None

    def send(self, email: CalendarMessage, outbox_id: int) -> str:
        if not self.server:
            return self._write_to_mail_log(email, outbox_id)
        if self.unreachable is not None:
            raise ServerUnreachable(self.unreachable)
        if self.connection is None:
            timeout = current_app.config.get("MAIL_TIMEOUT", 30)
            previous = socket.getdefaulttimeout()
            socket.setdefaulttimeout(timeout)  # Flask-Mail opens smtplib.SMTP without a timeout
            try:
                connection = mail.connect()
                connection.__enter__()
            except (smtplib.SMTPException, OSError) as exc:
                self.unreachable = f"{type(exc).__name__}: {exc}"
                raise ServerUnreachable(self.unreachable) from exc
            finally:
                socket.setdefaulttimeout(previous)
            self.connection = connection
        try:
            self.connection.send(email)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise
        return "accepted"

    @staticmethod
    def _write_to_mail_log(email: CalendarMessage, outbox_id: int) -> str:
        """No mail server: keep the whole message in an mbox file (BOOKING_MAIL_LOG) that any mail program opens."""
        path = current_app.config.get("BOOKING_MAIL_LOG")
        log.info("no MAIL_SERVER: email %s not sent, kept in the email log", outbox_id)
        if not path:
            return "logged (no MAIL_SERVER configured)"
        # whole emails with their personal links: readable by the app's user only
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        os.chmod(path, 0o600)
        box = mailbox.mbox(path)
        try:
            box.lock()
            box.add(email.as_bytes())
            box.flush()
        finally:
            box.unlock()
            box.close()
        return f"written to {path} (no MAIL_SERVER configured)"

    def close(self):
        if self.connection is not None:
            try:
                self.connection.__exit__(None, None, None)
            except (smtplib.SMTPException, OSError):
                pass
            self.connection = None


# --- one chunk of a batch: prepare, store, send, record ------------------------------------------

@dataclass
class Plan:
    """One claimed message on its way through a chunk: what was decided, rendered, answered."""

    id: int
    kind: MessageKind | None = None
    attempts: int = 0  # as the row held them when claimed
    decision: str | None = None  # "send", "skipped", "postponed"; None: it could not be prepared
    reason: str | None = None  # why it is skipped
    email: CalendarMessage | None = None
    stored: dict = field(default_factory=dict)  # what the email log keeps (redacted), written before sending
    error: BaseException | None = None  # what went wrong preparing, storing or recording it
    accepted: bool = False  # the mail server has accepted it: from now on it is sent, whatever happens
    outcome: str | None = None  # a DispatchResult field, once decided
    values: dict = field(default_factory=dict)  # the row's columns once handled
    attempt: dict | None = None  # its DeliveryAttempt, if one is recorded


def _stored(message: OutboxMessage, now: datetime) -> tuple[CalendarMessage, dict]:
    """Render the message; return the email (which keeps every personal link) and what the email
    log keeps of it, with those links redacted (booking/redaction.py). Changes nothing."""
    rendered = render_message(message, now=now)
    message_id = _message_id(message)
    stored = {
        "subject": redact(rendered.subject),
        "body_text": redact(rendered.stored_text if rendered.stored_text is not None else rendered.text),
        "body_html": redact(rendered.stored_html if rendered.stored_html is not None else rendered.html),
        "calendar": redact_calendar(rendered.calendar.decode()) if rendered.calendar else None,
        "message_id": message_id,
    }
    email = CalendarMessage(
        subject=rendered.subject,
        recipients=[message.recipient],
        body=rendered.text,
        html=rendered.html,
        sender=(current_app.config["BOOKING_OFFICE_NAME"], current_app.config["BOOKING_MAIL_SENDER"]),
        calendar=rendered.calendar,
        method=rendered.method,
        message_id=message_id,
        extra_headers={"Auto-Submitted": "auto-generated"},
    )
    return email, stored


def _prepare(ids: list[int], now: datetime) -> list[Plan]:
    """Load the chunk's messages in one query, decide about each and render what goes out.

    Reads only, in a transaction of its own that ends here (on SQLite no write lock is taken:
    others write while this renders). Nothing is changed on the rows yet: the decisions are
    written by _store, so that one failure here touches no other message.
    """
    plans = {message_id: Plan(message_id) for message_id in ids}
    # with what nearly every message renders, in one query for the chunk
    messages = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == MessageStatus.SENDING)
        .options(joinedload(OutboxMessage.registration).joinedload(Registration.seminar)
                 .selectinload(Seminar.sessions),
                 joinedload(OutboxMessage.session))
        .order_by(OutboxMessage.id)).unique().all()
    ready = {message.id: message for message in messages}
    for message_id, plan in plans.items():
        message = ready.get(message_id)
        if message is None:
            continue  # no longer ours (or gone): left alone
        try:
            plan.kind, plan.attempts = message.kind, message.attempts
            try:
                plan.reason = skip_reason(message, now)
            except Postpone:
                plan.decision = "postponed"
                continue
            if plan.reason is not None:
                plan.decision = "skipped"
                continue
            plan.email, plan.stored = _stored(message, now)
            plan.decision = "send"
        except Exception as exc:
            plan.decision, plan.error = None, exc
            log.error("email %s (%s) failed before it was sent: %s\n%s", message_id, plan.kind or "?",
                      _loggable(exc), _traceback_without_values(exc))
            db.session.rollback()  # the transaction may be broken; the others load again
    db.session.rollback()
    return list(plans.values())


def _decided_values(plan: Plan, now: datetime) -> dict:
    """What _store writes on a row: a skip or a postponement (final), or the rendered email
    (claim kept until the outcome is recorded)."""
    if plan.decision == "skipped":
        return {"id": plan.id, "status": MessageStatus.SKIPPED, "skip_reason": plan.reason, "claimed_until": None}
    if plan.decision == "postponed":
        return {"id": plan.id, "status": MessageStatus.PENDING, "next_attempt_at": now + POSTPONE,
                "claimed_until": None}
    return {"id": plan.id, "attempts": plan.attempts + 1, **plan.stored}


def _write(values: list[dict], attempts: list[dict]) -> None:
    """One writing transaction: rows updated by primary key, delivery attempts added; committed."""
    begin_write()
    if values:
        db.session.execute(db.update(OutboxMessage), values)
    if attempts:
        db.session.execute(db.insert(DeliveryAttempt), attempts)
    db.session.commit()


def _store(plans: list[Plan], now: datetime) -> None:
    """Write every decision of the chunk, and what goes out, before anything is sent: one short
    transaction. If it fails, each message is stored alone, so that only a row that cannot hold
    its email fails (unsent)."""
    decided = [plan for plan in plans if plan.decision is not None]
    try:
        _write([_decided_values(plan, now) for plan in decided], [])
        stored_alone = False
    except Exception:
        db.session.rollback()
        stored_alone = True
    if stored_alone:
        for plan in decided:
            try:
                _write([_decided_values(plan, now)], [])
            except Exception as exc:
                db.session.rollback()
                plan.decision, plan.error = None, exc
                log.error("email %s (%s) failed before it was sent: %s\n%s", plan.id, plan.kind,
                          _loggable(exc), _traceback_without_values(exc))
    for plan in decided:
        if plan.decision == "skipped":
            plan.outcome = "skipped"
            log.info("email %s (%s) skipped: %s", plan.id, plan.kind, plan.reason)
        elif plan.decision == "postponed":
            plan.outcome = "postponed"


def _send(plan: Plan, transport: Transport, now: datetime) -> None:
    """Hand a stored message to the mail server and decide its outcome (written by _record)."""
    attempts = plan.attempts + 1
    values = {"id": plan.id, "claimed_until": None}
    try:
        detail = transport.send(plan.email, plan.id)
    except ServerUnreachable as exc:
        # however long the server is down, the message waits: attempts count only what a server answered
        error = _storable(f"mail server unreachable: {exc}")
        plan.values = {**values, "attempts": attempts - 1, "status": MessageStatus.PENDING,
                       "next_attempt_at": now + SERVER_DOWN_RETRY, "last_error": error}
        plan.attempt = {"message_id": plan.id, "attempted_at": now, "outcome": "retry", "detail": error}
        plan.outcome = "retried"
        return
    except Exception as exc:  # the server refused it, the connection broke, or the message cannot be encoded
        if not isinstance(exc, (smtplib.SMTPException, OSError)):
            log.error("email %s (%s) could not be sent: %s\n%s", plan.id, plan.kind, _loggable(exc),
                      _traceback_without_values(exc))
        failure = _classify(exc)
        permanent = isinstance(failure, PermanentFailure) or attempts >= current_app.config["BOOKING_MAIL_MAX_ATTEMPTS"]
        error = _storable(str(failure))
        plan.attempt = {"message_id": plan.id, "attempted_at": now, "outcome": "failed" if permanent else "retry",
                        "detail": error}
        if permanent:
            plan.values = {**values, "status": MessageStatus.FAILED, "last_error": error}
            plan.outcome = "failed"
            log.warning("email %s (%s) failed: %s", plan.id, plan.kind, _loggable(exc))
        else:
            plan.values = {**values, "status": MessageStatus.PENDING, "next_attempt_at": now + backoff(attempts),
                           "last_error": error}
            plan.outcome = "retried"
            log.info("email %s (%s) will be retried: %s", plan.id, plan.kind, _loggable(exc))
        return
    plan.accepted = True
    plan.values = {**values, "status": MessageStatus.SENT, "sent_at": now, "last_error": None}
    plan.attempt = {"message_id": plan.id, "attempted_at": now, "outcome": "sent", "detail": _storable(detail)}
    plan.outcome = "sent"
    log.info("email %s (%s) sent", plan.id, plan.kind)


def _record(plans: list[Plan], now: datetime) -> None:
    """Write the outcomes of the chunk's sent messages in one short transaction.

    If that fails, a message the server accepted is recorded sent with the reason (never sent
    again), and each other outcome is written alone (_record_failure if even that fails)."""
    answered = [plan for plan in plans if plan.values]
    if not answered:
        return
    try:
        _write([plan.values for plan in answered], [plan.attempt for plan in answered if plan.attempt])
        return
    except Exception as exc:
        db.session.rollback()
        failure = exc
    log.error("the outcomes of emails %s could not be stored together: %s\n%s",
              ", ".join(str(plan.id) for plan in answered), _loggable(failure), _traceback_without_values(failure))
    for plan in answered:
        if plan.accepted:
            plan.outcome = _record_failure(plan.id, failure, accepted=True, now=now, counted=True)
            continue
        try:
            _write([plan.values], [plan.attempt] if plan.attempt else [])
        except Exception as exc:
            db.session.rollback()
            plan.outcome = _record_failure(plan.id, exc, accepted=False, now=now, counted=True)


def _is_transient(exc: BaseException) -> bool:
    """A database that went away or timed out: no fault of the message, which is tried again."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def _record_failure(message_id: int, exc: BaseException, *, accepted: bool, now: datetime,
                    counted: bool = False) -> str | None:
    """After a rollback: record on the message, in a transaction of its own, what `exc` did to it.

    Accepted by the server already: sent (sending it again would deliver it twice). Else failed
    with a short reason, or pending again if the database was briefly away. Returns the outcome,
    or None if even this could not be stored (the claim then runs out and the message is taken up
    again: the same Message-ID lets a receiving server drop a second copy). `counted`: this
    attempt is counted on the row already (stored before it was sent).
    """
    reason = _short_reason(exc)
    try:
        begin_write()
        message = db.session.get(OutboxMessage, message_id)
        if message is None:
            db.session.commit()
            return None
        message.claimed_until = None
        if not counted:
            message.attempts += 1
        if accepted:
            message.status = MessageStatus.SENT
            message.sent_at = now
            message.last_error = _storable(f"sent, but storing the outcome failed: {reason}")
            outcome, attempt = "sent", "sent"
        elif _is_transient(exc) and message.attempts < current_app.config["BOOKING_MAIL_MAX_ATTEMPTS"]:
            message.status = MessageStatus.PENDING
            message.next_attempt_at = now + backoff(message.attempts)
            message.last_error = reason
            outcome, attempt = "retried", "retry"
        else:
            message.status = MessageStatus.FAILED
            message.last_error = reason
            outcome, attempt = "failed", "failed"
        db.session.add(DeliveryAttempt(message=message, attempted_at=now, outcome=attempt,
                                       detail=message.last_error))
        db.session.commit()
    except Exception as second:
        db.session.rollback()
        log.error("email %s: its failure could not be recorded either: %s\n%s", message_id, _loggable(second),
                  _traceback_without_values(second))
        return None
    return outcome


def _dispatch_chunk(ids: list[int], transport: Transport, now: datetime, *, second_look: bool = True) -> list[Plan]:
    """Prepare (read only), store what goes out (one short transaction), send outside any
    transaction, record the outcomes (one short transaction).

    A message postponed because an invitation of this very chunk was still being sent (a
    cancellation behind its invitation) gets a second look once those outcomes are recorded,
    as it would have had if they were sent one by one.
    """
    plans = _prepare(ids, now)
    waiting = [plan for plan in plans if plan.decision == "postponed"] if second_look else []
    if waiting:
        for plan in waiting:
            plan.decision = None  # still claimed: decided again below
    _store(plans, now)
    for plan in plans:
        if plan.decision == "send" and plan.error is None:
            _send(plan, transport, now)
    _record(plans, now)
    for plan in plans:
        if plan.error is not None and plan.outcome is None:
            plan.outcome = _record_failure(plan.id, plan.error, accepted=False, now=now)
    if waiting:
        again = {plan.id: plan for plan in _dispatch_chunk([plan.id for plan in waiting], transport, now,
                                                           second_look=False)}
        plans = [again.get(plan.id, plan) for plan in plans]
    return plans


def dispatch_pending(now: datetime | None = None, *, limit: int = 100, stop_after: int | None = None) -> DispatchResult:
    """One pass: claim due messages and deliver them, chunk by chunk (CHUNK messages: rendered
    and stored together, then sent over one connection, then their outcomes committed together).

    Whatever goes wrong with one message is recorded on it, and the pass goes on with the next.
    `stop_after` ends the pass early, leaving claimed messages for a later pass (as a worker
    stopped mid-batch would).
    """
    now = now or utcnow()
    result = DispatchResult()
    ids = claim_due(now, limit)
    if stop_after is not None:
        ids = ids[:stop_after]
    transport = Transport()
    try:
        with base_url_context():
            for start in range(0, len(ids), CHUNK):
                for plan in _dispatch_chunk(ids[start:start + CHUNK], transport, now):
                    if plan.outcome is not None:
                        setattr(result, plan.outcome, getattr(result, plan.outcome) + 1)
                        result.ids.append(plan.id)
    finally:
        transport.close()
    return result


def run_worker(*, once: bool = False, interval: float = 10.0, echo=print, now: datetime | None = None) -> None:
    """Deliver forever (or one pass with `once`); also ends late-place offers past their deadline
    and schedules reminders each pass.

    Running forever, a pass that fails as a whole (the database is away) is logged and the
    next one follows after `interval`; with `once` the error ends the command. `now` fixes the
    clock of every pass (tests); by default each step reads the time itself.
    """
    while True:
        try:
            _one_pass(echo, now)
        except Exception as exc:
            db.session.rollback()
            db.session.remove()
            if once:
                raise
            log.error("mail worker pass failed, trying again in %ss: %s\n%s", interval, _loggable(exc),
                      _traceback_without_values(exc))
        if once:
            return
        time.sleep(interval)


def _offers_pass(echo, now: datetime | None) -> None:
    """Offers of late places not accepted by their deadline end, and each place moves on
    (booking.registrations.services.expire_offers); the emails it records go out in this pass."""
    from .. import audit
    from ..registrations.services import expire_offers

    try:
        begin_write()
        with audit.acting_as(audit.Actor("worker")):
            ended = expire_offers(now)
        db.session.commit()
    except Exception as exc:  # must not hold up the emails: the offers are looked at again next pass
        db.session.rollback()
        log.error("ending offers failed: %s\n%s", _loggable(exc), _traceback_without_values(exc))
        return
    if ended:
        echo(f"offers ended after their deadline: {ended}")


def _certificates_pass(echo, now: datetime | None) -> None:
    """Whoever completed a seminar that is now over is told once that their certificate is ready
    (booking.attendance.services.record_certificate_notices); the emails go out in this pass."""
    from ..attendance.services import record_certificate_notices

    try:
        begin_write()
        recorded = record_certificate_notices(now)
        db.session.commit()
    except Exception as exc:  # must not hold up the emails: looked at again next pass
        db.session.rollback()
        log.error("certificate emails could not be recorded: %s\n%s", _loggable(exc), _traceback_without_values(exc))
        return
    if recorded:
        echo(f"certificate emails recorded: {recorded}")


def _daily_privacy_pass(echo, now: datetime | None = None) -> None:
    """Once a day (remembered in the audit log, so across restarts too): the retention purge,
    committed batch by batch (the write lock is held for one batch at a time)."""
    from .. import audit
    from ..privacy.services import purge_if_due

    try:
        begin_write()
        with audit.acting_as(audit.Actor("worker")):
            counts = purge_if_due(now, after_batch=commit_between_batches)
        db.session.commit()
    except Exception as exc:  # a failed purge must not hold up the emails: it is tried again next pass
        db.session.rollback()
        log.error("retention purge failed: %s\n%s", _loggable(exc), _traceback_without_values(exc))
        return
    if counts is not None:
        echo(f"retention purge: {counts.total} removed")


def _one_pass(echo, now: datetime | None = None) -> None:
    from .reminders import schedule_reminders

    _daily_privacy_pass(echo, now)
    _offers_pass(echo, now)
    _certificates_pass(echo, now)
    scheduled = schedule_reminders(now)
    db.session.commit()
    while True:  # a backlog goes out in batches until nothing is due
        result = dispatch_pending(now)
        db.session.remove()
        if result.handled or scheduled:
            echo(f"reminders scheduled: {scheduled}; sent: {result.sent}, retried: {result.retried}, "
                 f"failed: {result.failed}, skipped: {result.skipped}")
        scheduled = 0
        if not result.handled:
            break
