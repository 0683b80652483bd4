"""What the calendar tests share: sessions on both sides of summer time, a fixed DTSTAMP, invitations."""
from __future__ import annotations

from datetime import timedelta

from booking.calendar import ics
from booking.extensions import db

from tests.factories import now, utc

# A year ahead, so registration stays open whenever the suite runs (July 2027 while that is ahead).
YEAR = max(2027, now().year + 1)
SUMMER = (utc(YEAR, 7, 15, 16), utc(YEAR, 7, 15, 18, 30))   # 18:00-20:30 in Berlin (CEST, UTC+2)
WINTER = (utc(YEAR, 1, 14, 17), utc(YEAR, 1, 14, 19, 30))   # 18:00-20:30 in Berlin (CET, UTC+1)
STAMP = utc(YEAR - 1, 11, 2, 9, 30)


def session_at(seminar, starts_at):
    return next(s for s in seminar.sessions if s.starts_at == starts_at)


def invite(registration, session, sequence=0, **overrides):
    """An invitation to the registration's own address, with the fixed DTSTAMP."""
    values = {"sequence": sequence, "attendee_email": registration.email,
              "attendee_name": registration.full_name, "now": STAMP} | overrides
    return ics.invitation(registration, session, **values)


def invite_move_cancel(registration, session):
    """The three objects one event goes through: the invitation, an update an hour later, the cancellation."""
    first = invite(registration, session, sequence=0)
    session.starts_at += timedelta(hours=1)
    session.ends_at += timedelta(hours=1)
    session.revision += 1
    db.session.flush()
    update = invite(registration, session, sequence=1, now=STAMP + timedelta(days=1))
    cancel = ics.cancellation(registration, session, sequence=2, attendee_email=registration.email,
                              attendee_name=registration.full_name, now=STAMP + timedelta(days=2))
    return first, update, cancel
