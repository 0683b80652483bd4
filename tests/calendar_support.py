"""What the calendar tests share: sessions on both sides of summer time, a fixed DTSTAMP, invitations."""
from __future__ import annotations

from booking.calendar import ics

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
