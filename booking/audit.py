"""The audit log: who did what to which seminar or registration, and when.

Services call `record(...)` where they change something; who acted comes from the context:
a logged-in staff user, a participant through their personal link or an association's contact
through theirs (the public views say so with `acting_as`), the mail worker, or the system
(a CLI command). Entries name people by role and id, never by a participant's name or address.
"""
from __future__ import annotations

import contextvars
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .database import UTCDateTime, utcnow
from .extensions import db

log = logging.getLogger(__name__)

ACTOR_KINDS = {
    "user": _l("Staff"),
    "participant": _l("Participant (personal link)"),
    "contact": _l("Association contact (personal link)"),
    "public": _l("Public form"),
    "worker": _l("Mail worker"),
    "system": _l("System (command line)"),
}


# What each recorded action is called on the pages that show the log (one place for every action;
# tests/test_audit_labels.py finds every action the code records and fails when one has no label).
ACTION_LABELS = {
    "registration.created": _l("Registered"),
    "registration.cancelled": _l("Cancelled"),
    "registration.promoted": _l("Place from the waiting list"),
    "registration.promoted_by_office": _l("Given a place by the office"),
    "registration.offered": _l("Late place offered"),
    "registration.offer_accepted": _l("Offered place accepted"),
    "registration.offer_declined": _l("Offered place declined"),
    "registration.offer_expired": _l("Offered place not accepted in time"),
    "registration.attendance_confirmed": _l("Said they are coming"),
    "registration.emails_resent": _l("Emails sent again"),
    "registration.deleted": _l("Personal data deleted by the participant"),
    "privacy.purged": _l("Personal data past its retention period removed"),
    "seminar.created": _l("Seminar created"),
    "seminar.edited": _l("Seminar changed"),
    "seminar.published": _l("Seminar published"),
    "seminar.duplicated": _l("Seminar run again"),
    "seminar.cancelled": _l("Seminar cancelled"),
    "seminar.deleted": _l("Draft deleted"),
    "seminar.participants_messaged": _l("Participants written to"),
    "session.added": _l("Session added"),
    "session.changed": _l("Session moved or its place changed"),
    "session.cancelled": _l("Session cancelled"),
    "topic.added": _l("Topic added"),
    "topic.renamed": _l("Topic renamed"),
    "topic.deleted": _l("Topic deleted"),
    "association.accepted": _l("Accepted into the public list"),
    "association.renamed": _l("Association renamed"),
    "association.merged": _l("Associations merged"),
    "email.retried": _l("Email sent again"),
    "attendance.recorded": _l("Attendance ticked"),
    "user.invited": _l("User invited"),
    "user.invitation_resent": _l("Invitation sent again"),
    "user.joined": _l("User set their password"),
    "user.password_reset": _l("Password reset by link"),
    "user.role_changed": _l("Role changed"),
    "user.deactivated": _l("User deactivated"),
    "user.reactivated": _l("User reactivated"),
}


def action_label(entry) -> str:
    if entry.action == "attendance.recorded":
        return _attendance_label(entry.detail or {})
    return str(ACTION_LABELS.get(entry.action, entry.action))


def _attendance_label(detail: dict) -> str:
    """"Attendance ticked: Present (before: Absent), session 2 on 3 Mar 2027, 18:00"."""
    from datetime import datetime as _datetime

    from flask_babel import gettext as _

    from .attendance.models import ATTENDANCE_LABELS, AttendanceStatus
    from .formatting import datetime_short

    def label(value):
        try:
            return str(ATTENDANCE_LABELS[AttendanceStatus(value)])
        except ValueError:
            return str(value)

    text = _("Attendance ticked: %(status)s", status=label(detail.get("status")))
    if detail.get("previous"):
        text = _("%(text)s (before: %(previous)s)", text=text, previous=label(detail["previous"]))
    if detail.get("session_starts_at"):
        when = datetime_short(_datetime.fromisoformat(detail["session_starts_at"]))
        if detail.get("session_number"):
            return _("%(text)s, session %(number)d on %(when)s", text=text, number=detail["session_number"],
                     when=when)
        return _("%(text)s, session on %(when)s", text=text, when=when)
    return text


def actor_label(entry) -> str:
    """A staff member by name; anyone else by role (never a participant's name)."""
    return entry.actor_label if entry.actor_kind == "user" and entry.actor_label else str(
        ACTOR_KINDS.get(entry.actor_kind, entry.actor_kind))


@dataclass(frozen=True)
class Actor:
    kind: str  # one of ACTOR_KINDS
    user_id: int | None = None
    label: str = ""  # a staff member's name, or "contact 12": never a participant's name


_cli_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("audit_actor", default=Actor("system"))


def current_actor() -> Actor:
    if has_request_context():
        actor = g.get("audit_actor")
        if actor is not None:
            return actor
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            return Actor("user", current_user.id, current_user.display_name)
        return Actor("public")
    return _cli_actor.get()


@contextmanager
def acting_as(actor: Actor):
    """Everything recorded inside is done by `actor` (in a request, or in a job such as the worker)."""
    if has_request_context():
        previous = g.get("audit_actor")
        g.audit_actor = actor
        try:
            yield
        finally:
            g.audit_actor = previous
    else:
        token = _cli_actor.set(actor)
        try:
            yield
        finally:
            _cli_actor.reset(token)


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_seminar_at", "seminar_id", "at"),
        Index("ix_audit_entries_registration_at", "registration_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(60))
    seminar_id: Mapped[int | None] = mapped_column(ForeignKey("seminars.id", ondelete="SET NULL"))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id", ondelete="SET NULL"))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    actor_user = relationship("User")

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action}>"


def entry_row(action: str, *, seminar=None, registration=None, actor: Actor | None = None, **detail) -> dict:
    """The entry `record` adds, as a row (for `record_rows`: several in one INSERT)."""
    actor = actor or current_actor()
    if seminar is None and registration is not None:
        seminar = registration.seminar
    return dict(
        at=utcnow(), actor_kind=actor.kind, actor_user_id=actor.user_id, actor_label=actor.label[:200],
        action=action, seminar_id=seminar.id if seminar is not None else None,
        registration_id=registration.id if registration is not None else None, detail=detail,
    )


def record(action: str, *, seminar=None, registration=None, actor: Actor | None = None, **detail) -> AuditEntry:
    """Record that the current actor did `action` (e.g. "registration.cancelled"); flushes, never commits."""
    entry = AuditEntry(**entry_row(action, seminar=seminar, registration=registration, actor=actor, **detail))
    db.session.add(entry)
    db.session.flush()
    return entry


def record_rows(rows: list[dict]) -> None:
    """Entries of `entry_row` in one INSERT, nothing read back (a group's registrations, one each)."""
    if rows:
        db.session.execute(db.insert(AuditEntry.__table__), rows)


def entries_for(*, seminar=None, registration=None, limit: int = 200, exclude: tuple[str, ...] = ()) -> list[AuditEntry]:
    query = db.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if exclude:
        query = query.where(AuditEntry.action.not_in(exclude))
    if seminar is not None:
        query = query.where(AuditEntry.seminar_id == seminar.id)
    if registration is not None:
        query = query.where(AuditEntry.registration_id == registration.id)
    return list(db.session.scalars(query))
