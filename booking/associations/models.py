"""The association (MSO) a participant comes from."""
from __future__ import annotations

import enum
import secrets
import unicodedata
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..addresses import address_key
from ..database import UTCDateTime, str_enum, utcnow
from ..extensions import db


class AssociationStatus(enum.StrEnum):
    """A name typed on a public form stays private (pending) until a coordinator accepts it into the
    public list, renames it or merges it into another association."""

    ACCEPTED = "accepted"  # offered on the public forms
    PENDING = "pending"  # typed by the public, seen only in the workspace


ASSOCIATION_STATUS_LABELS = {
    AssociationStatus.ACCEPTED: _l("In the public list"),
    AssociationStatus.PENDING: _l("Waiting for review"),
}


class LegalForm(enum.StrEnum):
    REGISTERED = "registered"  # eingetragener Verein (e.V.)
    UNREGISTERED = "unregistered"  # nicht eingetragener Verein
    INITIATIVE = "initiative"


LEGAL_FORM_LABELS = {
    LegalForm.REGISTERED: _l("Registered association (e.V.)"),
    LegalForm.UNREGISTERED: _l("Association, not registered"),
    LegalForm.INITIATIVE: _l("Initiative"),
}


def association_name_key(name: str) -> str:
    """The key under which two spellings of a name are the same association.

    Case, Unicode normal form and surrounding or repeated spaces do not make a different
    association. Casefolding can make a name longer ("ß" -> "ss"): forms check that the key fits.
    """
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def clean_association_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).split())


class Association(db.Model):
    __tablename__ = "associations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    district: Mapped[str] = mapped_column(String(120), default="")
    legal_form: Mapped[LegalForm | None] = mapped_column(
        str_enum(LegalForm, "legal_form")
    )
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # Made by the office (or the demo data): accepted; typed by the public: pending (see find_or_create_association).
    status: Mapped[AssociationStatus] = mapped_column(
        str_enum(AssociationStatus, "association_status"), default=AssociationStatus.ACCEPTED,
        server_default=AssociationStatus.ACCEPTED.value, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Association {self.name!r}>"

    @property
    def is_accepted(self) -> bool:
        return self.status == AssociationStatus.ACCEPTED


def contact_email_key(email: str) -> str:
    return address_key(email) or ""


class AssociationContact(db.Model):
    """The person who registers members of an association: its chair or secretary, say.

    One row per email address. Their personal link (booking.tokens, purpose "contact") shows
    every registration they made; raising `token_version` revokes it.
    """

    __tablename__ = "association_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: secrets.token_urlsafe(12))
    token_version: Mapped[int] = mapped_column(default=1)
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    preferred_language: Mapped[str] = mapped_column(String(8), default="de")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    association: Mapped[Association | None] = relationship()

    def __repr__(self) -> str:
        return f"<AssociationContact {self.public_id}>"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class LinkRequest(db.Model):
    """A "lost your link?" request that sent links to an address: at most one per address and hour.

    Keyed by the address, not by a person: one address can be a contact's and several
    registrations' at once, and all their links go out in one email.
    """

    __tablename__ = "link_requests"
    __table_args__ = (Index("ix_link_requests_email_time", "email_key", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email_key: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
