"""Changing what was announced: moving or cancelling a session, cancelling a seminar.

Each change raises the session's revision and records, in the same transaction, the calendar
update or cancellation every participant must receive. Used by the coordinator workspace and,
until it exists, by the `flask booking` commands.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l

from .. import audit
from ..database import utcnow
from ..extensions import db
from ..mail import outbox
from ..registrations.services import lock_seminar
from .models import Seminar, SeminarStatus, Session, SessionStatus

log = logging.getLogger(__name__)


class ScheduleChangeRefused(Exception):
    """Nothing was changed; `message` says why, `field` ("starts_at", "ends_at") what it concerns."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def announced(session: Session) -> dict:
    """What participants were told of a session: its time and place (what an update changes)."""
    return _announced(session)


def _announced(session: Session) -> dict:
    return {
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "place": ", ".join(part for part in (session.place_name, session.place_address) if part),
    }


PAST_MESSAGE = _l("A session cannot be moved into the past.")
OVER_MESSAGE = _l("This session is over and can no longer be changed.")


def change_session(session: Session, *, starts_at: datetime | None = None, ends_at: datetime | None = None,
                   venue_name: str | None = None, venue_address: str | None = None,
                   now: datetime | None = None, announced_before: dict | None = None) -> int:
    """Move a session or change its place. Returns how many participants are sent an update.

    A value left as None stays as it is; an empty venue string means "back to the seminar's venue".
    `announced_before`: what participants were last told, when the seminar's own place changed in
    the same save (booking.seminars.editing). A session is never moved into the past: participants' calendars would skip the update as
    "over" and keep the old date while the catalogue showed the new one.
    """
    now = now or utcnow()
    lock_seminar(session.seminar)
    if session.status == SessionStatus.CANCELLED:
        raise ScheduleChangeRefused(_l("A cancelled session cannot be changed."))
    if session.ends_at <= now:
        raise ScheduleChangeRefused(OVER_MESSAGE, field="starts_at")
    old = announced_before or _announced(session)
    # in UTC, as stored and announced: the same moment given in local time is no change
    new_start = (starts_at or session.starts_at).astimezone(timezone.utc)
    new_end = (ends_at or session.ends_at).astimezone(timezone.utc)
    if new_end <= new_start:
        raise ScheduleChangeRefused(_l("The session must end after it starts."), field="ends_at")
    if new_start != session.starts_at and new_start <= now:
        raise ScheduleChangeRefused(PAST_MESSAGE, field="starts_at")
    session.starts_at, session.ends_at = new_start, new_end
    if venue_name is not None:
        session.venue_name = venue_name.strip() or None
    if venue_address is not None:
        session.venue_address = venue_address.strip() or None
    if _announced(session) == old:
        return 0
    session.revision += 1
    db.session.flush()
    count = outbox.session_changed(session, old)
    audit.record("session.changed", seminar=session.seminar, session_id=session.id, before=old,
                 after=_announced(session), told=count)
    log.info("session %s of %s changed (revision %s): %s updates", session.id, session.seminar.slug,
             session.revision, count)
    return count


def cancel_session(session: Session, *, reason: str = "") -> int:
    lock_seminar(session.seminar)
    if session.status == SessionStatus.CANCELLED:
        raise ScheduleChangeRefused(_l("This session is already cancelled."))
    session.status = SessionStatus.CANCELLED
    session.revision += 1
    db.session.flush()
    count = outbox.session_cancelled(session, reason=reason)
    audit.record("session.cancelled", seminar=session.seminar, session_id=session.id, told=count)
    log.info("session %s of %s cancelled: %s cancellations", session.id, session.seminar.slug, count)
    return count


def cancel_seminar(seminar: Seminar, *, reason: str, now: datetime | None = None) -> int:
    now = now or utcnow()
    seminar = lock_seminar(seminar)
    if seminar.status == SeminarStatus.CANCELLED:
        raise ScheduleChangeRefused(_l("This seminar is already cancelled."))
    seminar.status = SeminarStatus.CANCELLED
    sessions = [s for s in seminar.scheduled_sessions if s.ends_at > now]
    for session in sessions:
        session.status = SessionStatus.CANCELLED
        session.revision += 1
    db.session.flush()
    count = outbox.seminar_cancelled(seminar, sessions, reason=reason)
    audit.record("seminar.cancelled", seminar=seminar, told=count)
    log.info("seminar %s cancelled: %s participants told", seminar.slug, count)
    return count
