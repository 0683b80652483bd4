"""The outbox: every email is a row first, written in the same transaction as the change behind it."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..associations.models import AssociationContact
from ..database import UTCDateTime, str_enum, utcnow
from ..extensions import db
from ..registrations.models import Registration
from ..seminars.models import Session


class MessageKind(enum.StrEnum):
    CONFIRMATION = "confirmation"  # a place, at registration
    PROMOTION = "promotion"  # a place, after waiting
    WAITLISTED = "waitlisted"
    INVITATION = "invitation"  # iTIP REQUEST for one session (first one, or an update: see facts)
    SESSION_CANCEL = "session_cancel"  # iTIP CANCEL for one session
    REGISTRATION_CANCELLED = "registration_cancelled"  # the participant's own cancellation, confirmed
    SEMINAR_CANCELLED = "seminar_cancelled"
    REMINDER = "reminder"
    OFFER = "offer"  # a late place offered to someone on the waiting list (facts: expires_at)
    OFFER_EXPIRED = "offer_expired"  # ... not accepted in time: it went on, the registration ended
    # to an association contact, not about one registration:
    GROUP_REGISTERED = "group_registered"  # the people just registered, and the contact's link
    LINKS = "links"  # every personal link of an address again, asked for on the "lost your link?" page
    # one event (a session moved or cancelled, the seminar cancelled, a reminder) for the members a
    # contact registered without an address, in one email (facts: about, registration_ids)
    MEMBERS_UPDATE = "members_update"
    # the office writes to a seminar's participants: its own subject and text (facts: subject, body),
    # framed by a greeting and the personal link in the reader's language
    OFFICE_MESSAGE = "office_message"
    # the seminar is over and the person completed it: their certificate of attendance can be
    # downloaded from their personal link (one per registration, booking.attendance.services)
    CERTIFICATE_READY = "certificate_ready"
    # to a staff member of the workspace, not about any registration (user_id set, facts: token_version,
    # expires_at): the link to set a first password, and the link to set a new one
    USER_INVITATION = "user_invitation"
    PASSWORD_RESET = "password_reset"


# Messages to an association contact, not about one registration: rendered for the contact.
CONTACT_KINDS = (MessageKind.GROUP_REGISTERED, MessageKind.LINKS, MessageKind.MEMBERS_UPDATE)


# Messages to a staff member: rendered for the user, never through a participant's or contact's path.
STAFF_KINDS = (MessageKind.USER_INVITATION, MessageKind.PASSWORD_RESET)


CALENDAR_KINDS = (MessageKind.INVITATION, MessageKind.SESSION_CANCEL)


class MessageStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"
    FAILED = "failed"  # permanent failure: the server's answer is in last_error
    SKIPPED = "skipped"  # made pointless before it went out (see skip_reason)


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        # what the dispatcher asks for: due pending rows, oldest first
        Index("ix_outbox_due", "next_attempt_at", "id",
              sqlite_where=text("status IN ('pending', 'sending')"),
              postgresql_where=text("status IN ('pending', 'sending')")),
        Index("ix_outbox_registration_session", "registration_id", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One message per (kind, registration, session, revision[, offset]): duplicates are impossible.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind, "message_kind", 30))
    # One of three: a registration's message, (CONTACT_KINDS) an association contact's own, or
    # (STAFF_KINDS) a staff member's (user_id, below).
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("association_contacts.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    # STAFF_KINDS: the staff member it goes to (no registration, no contact)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(default=0)
    recipient: Mapped[str] = mapped_column(String(254))
    # Facts that may change later but that this message must state as they were (old time and place, reason...).
    facts: Mapped[dict] = mapped_column(JSON, default=dict)

    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus, "message_status"), default=MessageStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Text, like everything the dispatcher writes: what a message renders to has no fixed bound
    # (names, titles and a server's answer all go in), and a value too long for its column
    # would make storing the outcome fail after the server had accepted the message.
    last_error: Mapped[str | None] = mapped_column(Text)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # What was sent, kept for the email log.
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    calendar: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(Text)  # the Message-ID header, the same on every attempt

    registration: Mapped[Registration | None] = relationship()
    contact: Mapped[AssociationContact | None] = relationship()
    session: Mapped[Session | None] = relationship()
    user: Mapped[User | None] = relationship()
    attempt_log: Mapped[list["DeliveryAttempt"]] = relationship(
        back_populates="message", order_by="DeliveryAttempt.id", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"


class DeliveryAttempt(db.Model):
    """One try to hand a message to the mail server, with the server's answer."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))  # sent, retry, failed
    detail: Mapped[str | None] = mapped_column(Text)

    message: Mapped[OutboxMessage] = relationship(back_populates="attempt_log")
