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
from ..seminars.models import Seminar


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

ACTIVE_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


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
