"""One tick on a session's attendance list: a participant was present, absent or excused."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..database import UTCDateTime, str_enum, utcnow
from ..extensions import db
from ..registrations.models import Registration
from ..seminars.models import Session


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    ABSENT = "absent"  # did not come and did not tell us: a no-show
    EXCUSED = "excused"  # did not come, and said so (or the office excused them)


ATTENDANCE_LABELS = {
    AttendanceStatus.PRESENT: _l("Present"),
    AttendanceStatus.ABSENT: _l("Absent"),
    AttendanceStatus.EXCUSED: _l("Excused"),
}


class Attendance(db.Model):
    """At most one per session and registration; a second tick changes the first.

    The row holds no personal data of its own: an anonymised registration keeps its rows, which
    then only count (booking.privacy)."""

    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("session_id", "registration_id", name="uq_attendances_session_registration"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(str_enum(AttendanceStatus, "attendance_status"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    session: Mapped[Session] = relationship()
    registration: Mapped[Registration] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Attendance {self.registration_id} at {self.session_id}: {self.status}>"

    @property
    def label(self) -> str:
        return str(ATTENDANCE_LABELS[self.status])
