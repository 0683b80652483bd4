"""Topic, Seminar and Session (a seminar's dated meeting)."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, str_enum, utcnow
from ..extensions import db


class Topic(db.Model):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)

    def __repr__(self) -> str:
        return f"<Topic {self.slug}>"


class SeminarStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class ClosedReason(enum.StrEnum):
    """Why a seminar takes no registrations; the text users see is in CLOSED_MESSAGES."""

    DRAFT = "draft"
    CANCELLED = "cancelled"
    DEADLINE_PASSED = "deadline_passed"
    OVER = "over"


CLOSED_MESSAGES = {
    ClosedReason.DRAFT: _l("This seminar is not open for registration."),
    ClosedReason.CANCELLED: _l("This seminar has been cancelled."),
    ClosedReason.DEADLINE_PASSED: _l("The registration deadline for this seminar has passed."),
    ClosedReason.OVER: _l("All sessions of this seminar are over."),
}


class Seminar(db.Model):
    __tablename__ = "seminars"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("max_per_association IS NULL OR max_per_association > 0",
                        name="max_per_association_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # Space-separated language codes (see booking.languages), in the order the office lists them.
    languages: Mapped[str] = mapped_column(String(100), default="de")
    # The office can arrange interpreting into other languages (participants say which when registering).
    interpreting_available: Mapped[bool] = mapped_column(default=False, server_default=false())
    trainer: Mapped[str] = mapped_column(String(200), default="")  # shown publicly; may name an outside trainer
    # The trainer's account, if they have one: they then see this seminar in the workspace.
    trainer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    venue_name: Mapped[str] = mapped_column(String(200), default="")
    venue_address: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int]
    max_per_association: Mapped[int | None]
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[SeminarStatus] = mapped_column(
        str_enum(SeminarStatus, "seminar_status"), default=SeminarStatus.DRAFT, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Rises with every save in the workspace: a form sent with an older version was filled in
    # before someone else saved, and is not allowed to overwrite their change unseen.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The one-time key of the workspace form that created this seminar: the same form sent twice
    # (a double click, a reload) finds the seminar it made instead of making another.
    creation_key: Mapped[str | None] = mapped_column(String(40), unique=True)

    topic: Mapped[Topic] = relationship(lazy="joined", innerjoin=True)
    sessions: Mapped[list["Session"]] = relationship(
        back_populates="seminar", order_by="Session.starts_at", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Seminar {self.slug}>"

    @property
    def language_codes(self) -> list[str]:
        return self.languages.split()

    @property
    def scheduled_sessions(self) -> list["Session"]:
        return [s for s in self.sessions if s.status == SessionStatus.SCHEDULED]

    @property
    def first_start(self) -> datetime | None:
        starts = [s.starts_at for s in self.scheduled_sessions]
        return min(starts) if starts else None

    @property
    def last_end(self) -> datetime | None:
        ends = [s.ends_at for s in self.scheduled_sessions]
        return max(ends) if ends else None

    def closed_reason(self, now: datetime, *, as_published: bool = False) -> ClosedReason | None:
        """None when the seminar takes registrations at `now`, else why not.

        `as_published`: as it would be once published (a coordinator's preview of a draft).
        """
        if self.status == SeminarStatus.CANCELLED:
            return ClosedReason.CANCELLED
        if self.status != SeminarStatus.PUBLISHED and not as_published:
            return ClosedReason.DRAFT
        if self.registration_deadline is not None and now > self.registration_deadline:
            return ClosedReason.DEADLINE_PASSED
        if not any(s.ends_at > now for s in self.scheduled_sessions):
            return ClosedReason.OVER
        return None

    def is_open(self, now: datetime) -> bool:
        return self.closed_reason(now) is None


class Session(db.Model):
    """One dated meeting of a seminar. `revision` rises with every change participants must hear of."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_sessions_seminar_starts", "seminar_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seminar_id: Mapped[int] = mapped_column(ForeignKey("seminars.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A place that differs from the seminar's; empty means the seminar's venue.
    venue_name: Mapped[str | None] = mapped_column(String(200))
    venue_address: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus, "session_status"), default=SessionStatus.SCHEDULED
    )
    revision: Mapped[int] = mapped_column(default=0)

    seminar: Mapped[Seminar] = relationship(back_populates="sessions")

    def __repr__(self) -> str:
        return f"<Session {self.id} of {self.seminar_id} at {self.starts_at}>"

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    @property
    def place_name(self) -> str:
        return self.venue_name or self.seminar.venue_name

    @property
    def place_address(self) -> str:
        return self.venue_address or self.seminar.venue_address
