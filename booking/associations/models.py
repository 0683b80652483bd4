"""The association (MSO) a participant comes from."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, str_enum, utcnow
from ..extensions import db


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

    Case and surrounding or repeated spaces do not make a different association.
    """
    return " ".join(name.split()).casefold()


def clean_association_name(name: str) -> str:
    return " ".join(name.split())


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Association {self.name!r}>"
