"""A person's registration for a seminar."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..addresses import address_key
from ..associations.models import Association, AssociationContact
from ..database import UTCDateTime, str_enum, utcnow
from ..extensions import db
from ..seminars.models import Seminar, SeminarStatus


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class WaitlistReason(enum.StrEnum):
    FULL = "full"
    ASSOCIATION_LIMIT = "association_limit"


STATUS_LABELS = {
    RegistrationStatus.CONFIRMED: _l("Has a place"),
    RegistrationStatus.WAITLISTED: _l("Waiting list"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}

WAITLIST_REASON_MESSAGES = {
    WaitlistReason.FULL: _l("All places are taken."),
    WaitlistReason.ASSOCIATION_LIMIT: _l(
        "Your association already has the maximum number of places this seminar gives to one association."
    ),
}

# Active: every status but cancelled (confirmed, waitlisted); in SQL see `active()`.
ACTIVE_STATUSES = tuple(status for status in RegistrationStatus if status != RegistrationStatus.CANCELLED)


def new_public_id() -> str:
    # 96 random bits, URL-safe and without '.', which separates it from the MAC in a link.
    return secrets.token_urlsafe(12)


def email_key(email: str | None) -> str | None:
    """Two spellings of one address share this key, two different addresses never (booking.addresses)."""
    return address_key(email)


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (
        # One active registration per email address and seminar, enforced by the database too.
        Index(
            "uq_registrations_active_email",
            "seminar_id",
            "email_key",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_registrations_seminar_status", "seminar_id", "status", "created_at"),
        # what the worker asks for each pass: open offers whose time to accept has run out
        Index(
            "ix_registrations_open_offers",
            "offer_expires_at",
            sqlite_where=text("status = 'waitlisted' AND offer_expires_at IS NOT NULL"),
            postgresql_where=text("status = 'waitlisted' AND offer_expires_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    token_version: Mapped[int] = mapped_column(default=1)
    seminar_id: Mapped[int] = mapped_column(ForeignKey("seminars.id", ondelete="CASCADE"))
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # None for a member registered by an association contact without an address of their own:
    # their messages go to the contact (booking.mail.outbox.recipient_for).
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    preferred_language: Mapped[str] = mapped_column(String(8), default="de")
    needs: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The privacy notice agreed to (booking.privacy_notice.consent_version): "2026-1/de/3f2a9c1b0d4e",
    # "office:..." when the office registered the person by hand; None: before notices were versioned.
    consent_version: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[RegistrationStatus] = mapped_column(
        str_enum(RegistrationStatus, "registration_status")
    )
    waitlist_reason: Mapped[WaitlistReason | None] = mapped_column(
        str_enum(WaitlistReason, "waitlist_reason", 30)
    )
    # None: the person registered themselves.
    registered_by_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("association_contacts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the personal data was removed (booking.privacy): the row stays for the counts.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The person said "I am coming" from the reminder before the first session.
    attendance_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A late place offered to this person on the waiting list (booking.registrations.services,
    # "offers"): while the status is still waitlisted, the offer is open and holds the place until
    # it is accepted, declined or expired by the worker. Both stay set afterwards, as a record.
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    seminar: Mapped[Seminar] = relationship()
    association: Mapped[Association | None] = relationship()
    registered_by: Mapped[AssociationContact | None] = relationship()

    def __repr__(self) -> str:
        return f"<Registration {self.public_id} {self.status}>"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def has_open_offer(self) -> bool:
        """On the waiting list with a place offered: the place is held for them (even once the time
        to accept has run out, until the worker passes the offer on)."""
        return self.status == RegistrationStatus.WAITLISTED and self.offer_expires_at is not None

    def can_accept_offer(self, now: datetime | None = None) -> bool:
        return self.has_open_offer and self.offer_expires_at > (now or utcnow())

    @property
    def offer_ran_out(self) -> bool:
        """Cancelled because a place offered was not accepted in time (not declined: that came before the deadline)."""
        return (self.status == RegistrationStatus.CANCELLED and self.offer_expires_at is not None
                and self.cancelled_at is not None and self.cancelled_at >= self.offer_expires_at)

    def can_confirm_attendance(self, now: datetime | None = None) -> bool:
        """A place in a seminar still to come (or under way): the person may say they are coming."""
        last_end = self.seminar.last_end
        return (self.status == RegistrationStatus.CONFIRMED and self.seminar.status == SeminarStatus.PUBLISHED
                and last_end is not None and last_end > (now or utcnow()))

    def can_see_meeting_link(self) -> bool:
        """Only people with a place get the online meeting's link: not the waiting list, not after cancelling.

        The one rule for every page, feed and email that could show it (see `meeting_link`).
        """
        return self.status == RegistrationStatus.CONFIRMED

    @property
    def meeting_link(self) -> str | None:
        """The seminar's online meeting link if this registration may see it, else None."""
        if not self.can_see_meeting_link():
            return None
        return self.seminar.online_url or None

    def can_cancel(self, now: datetime | None = None) -> bool:
        """Active and the seminar not over yet: a place freed now can still go to someone else."""
        last_end = self.seminar.last_end
        return self.is_active and last_end is not None and last_end > (now or utcnow())


def active():
    """SQL: the registration is active (Registration.is_active), written as the unique index
    uq_registrations_active_email's condition, status != 'cancelled', so that finding an address's
    active registration for a seminar is served by that index. (With `status IN (ACTIVE_STATUSES)`
    SQLite read every active registration of the seminar instead.)"""
    return Registration.status != RegistrationStatus.CANCELLED
