"""Every rule about attendance in one module: ticking, a session's list, rates, "completed", no-shows.

- `record` ticks one participant at one session (present, absent, excused) under the seminar's
  lock (booking.registrations.services.lock_seminar), so a tick never races the cancellation of
  the seminar or the session; a second tick changes the first. It flushes; the request commits.
- A session's list (`session_roll`) is everyone with a place, plus anyone already ticked there
  who has since lost it (a tick is not hidden by a later cancellation).
- A participant has **completed** a seminar when present at no fewer than
  BOOKING_COMPLETION_SHARE of its scheduled sessions (1.0: every one; cancelled sessions do not count).
- A **certificate** goes to whoever completed (and still has a name); the participant can download
  theirs once the seminar is over, the office at any time.
- A **no-show** is an "absent" tick (not "excused") at a scheduled session of a seminar that was
  held; counted per person by the registrations' email key, across seminars.

Time is passed in (`now=`); nothing here reads the clock except as a default.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from .. import audit
from ..database import utcnow
from ..extensions import db
from ..mail import outbox
from ..registrations.models import Registration, RegistrationStatus
from ..registrations.services import lock_seminar
from ..seminars.models import Seminar, SeminarStatus, Session, SessionStatus
from .models import Attendance, AttendanceStatus

log = logging.getLogger(__name__)

# A person with this many unexcused absences within NO_SHOW_PERIOD is marked for the office.
NO_SHOW_MARK = 2
NO_SHOW_PERIOD = timedelta(days=365)


class AttendanceRefused(Exception):
    """The tick was not stored; `message` says why, in words for the trainer in the room."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- who can be ticked -------------------------------------------------------------------------

def closed_reason(session: Session) -> str | None:
    """Why this session's attendance cannot be recorded, or None when it can."""
    if session.seminar.status == SeminarStatus.CANCELLED:
        return _l("This seminar has been cancelled: attendance can no longer be recorded.")
    if session.status == SessionStatus.CANCELLED:
        return _l("This session has been cancelled: there is no attendance to record.")
    return None


@dataclass
class RollRow:
    registration: Registration
    attendance: Attendance | None

    @property
    def status(self) -> AttendanceStatus | None:
        return self.attendance.status if self.attendance else None


@dataclass
class SessionRoll:
    session: Session
    rows: list[RollRow] = field(default_factory=list)

    def count(self, status: AttendanceStatus | None) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def present(self) -> int:
        return self.count(AttendanceStatus.PRESENT)

    @property
    def absent(self) -> int:
        return self.count(AttendanceStatus.ABSENT)

    @property
    def excused(self) -> int:
        return self.count(AttendanceStatus.EXCUSED)

    @property
    def unticked(self) -> int:
        return self.count(None)

    @property
    def ticked(self) -> int:
        return len(self.rows) - self.unticked

    @property
    def rate(self) -> float | None:
        """Share of the list present, or None before anyone is on the list."""
        return self.present / len(self.rows) if self.rows else None


def _name_key(registration: Registration):
    return (registration.is_anonymised, registration.last_name.casefold(), registration.first_name.casefold(),
            registration.id)


def session_roll(session: Session) -> SessionRoll:
    """The session's attendance list: everyone with a place, and anyone already ticked here, by name."""
    ticks = {a.registration_id: a for a in db.session.scalars(
        db.select(Attendance).where(Attendance.session_id == session.id))}
    registrations = list(db.session.scalars(
        db.select(Registration).where(
            Registration.seminar_id == session.seminar_id,
            db.or_(Registration.status == RegistrationStatus.CONFIRMED, Registration.id.in_(list(ticks) or [-1])))))
    registrations.sort(key=_name_key)
    return SessionRoll(session, [RollRow(r, ticks.get(r.id)) for r in registrations])


def may_be_ticked(session: Session, registration: Registration) -> bool:
    """On the session's list: a place in its seminar, or already ticked there."""
    if registration.seminar_id != session.seminar_id:
        return False
    if registration.status == RegistrationStatus.CONFIRMED:
        return True
    return db.session.scalar(db.select(Attendance.id).where(
        Attendance.session_id == session.id, Attendance.registration_id == registration.id)) is not None


# --- ticking ------------------------------------------------------------------------------------

def record(session: Session, registration: Registration, status: AttendanceStatus | str, *,
           by=None, now: datetime | None = None) -> Attendance:
    """Tick `registration` at `session` with `status`, recorded as done by the user `by`. Flushes.

    Refused (AttendanceRefused) for a cancelled seminar or session, and for someone not on the list.
    """
    now = now or utcnow()
    status = AttendanceStatus(status)
    lock_seminar(session.seminar)
    db.session.refresh(session)
    db.session.refresh(registration)
    reason = closed_reason(session)
    if reason is not None:
        raise AttendanceRefused(reason)
    if not may_be_ticked(session, registration):
        raise AttendanceRefused(_l("Only participants with a place are on the attendance list."))
    attendance = db.session.scalar(db.select(Attendance).where(
        Attendance.session_id == session.id, Attendance.registration_id == registration.id))
    if attendance is None:
        attendance = Attendance(session_id=session.id, registration_id=registration.id)
        db.session.add(attendance)
    previous = attendance.status
    attendance.status = status
    attendance.recorded_at = now
    attendance.recorded_by_user_id = by.id if by is not None else None
    db.session.flush()
    if previous != status:
        # one entry per change (a second tap on the same button changes nothing); who comes from
        # the context (booking.audit): the trainer or coordinator logged in
        scheduled = [s.id for s in session.seminar.scheduled_sessions]
        audit.record("attendance.recorded", registration=registration, session_id=session.id,
                     session_number=scheduled.index(session.id) + 1 if session.id in scheduled else None,
                     session_starts_at=session.starts_at.isoformat(), status=status.value,
                     previous=previous.value if previous is not None else None)
        # a list corrected after the seminar is over: a certificate that became due is announced now
        last_end = session.seminar.last_end
        if last_end is not None and last_end <= now and participant_may_download_certificate(registration, now=now):
            outbox.certificate_ready(registration)
    log.info("attendance: registration %s at session %s recorded %s by user %s", registration.id, session.id,
             status, attendance.recorded_by_user_id)
    return attendance


# --- completed ---------------------------------------------------------------------------------

def completion_share() -> float:
    share = float(current_app.config.get("BOOKING_COMPLETION_SHARE", 1.0))
    if not 0 < share <= 1:
        raise RuntimeError(f"BOOKING_COMPLETION_SHARE must be above 0 and at most 1, not {share}")
    return share


def sessions_required(seminar: Seminar) -> int:
    """How many scheduled sessions a participant must attend to complete the seminar (0: no sessions)."""
    return sessions_required_of(len(seminar.scheduled_sessions))


def sessions_required_of(scheduled: int) -> int:
    """How many of `scheduled` sessions a participant must attend to complete a seminar (0: none scheduled)."""
    # rounded to a millionth first: 0.7 * 10 is 7.000000000000001 in floating point, and means 7
    return min(scheduled, math.ceil(round(completion_share() * scheduled, 6)))


def sessions_attended(registration: Registration) -> list[Session]:
    """The scheduled sessions of its seminar at which the registration was ticked present, in order."""
    return list(db.session.scalars(
        db.select(Session).join(Attendance, Attendance.session_id == Session.id).where(
            Attendance.registration_id == registration.id, Attendance.status == AttendanceStatus.PRESENT,
            Session.seminar_id == registration.seminar_id, Session.status == SessionStatus.SCHEDULED)
        .order_by(Session.starts_at)))


def completed(registration: Registration) -> bool:
    """Had a place and was present at enough of the seminar's scheduled sessions (BOOKING_COMPLETION_SHARE)."""
    if registration.status != RegistrationStatus.CONFIRMED:
        return False
    required = sessions_required(registration.seminar)
    return required > 0 and len(sessions_attended(registration)) >= required


def _present_counts(seminar: Seminar) -> dict[int, int]:
    rows = db.session.execute(
        db.select(Attendance.registration_id, db.func.count(Attendance.id))
        .join(Session, Session.id == Attendance.session_id)
        .where(Session.seminar_id == seminar.id, Session.status == SessionStatus.SCHEDULED,
               Attendance.status == AttendanceStatus.PRESENT)
        .group_by(Attendance.registration_id))
    return {registration_id: count for registration_id, count in rows}


@dataclass
class SeminarCompletion:
    """Sessions attended and "completed" for every registration of one seminar, from two queries
    (for lists and exports: no query per row)."""

    scheduled: int  # the seminar's scheduled sessions
    required: int  # how many of them make "completed"
    present: dict[int, int]  # registration id -> scheduled sessions attended

    def attended(self, registration: Registration) -> int:
        return self.present.get(registration.id, 0)

    def completed(self, registration: Registration) -> bool:
        """The same rule as `completed`, without a query."""
        return (registration.status == RegistrationStatus.CONFIRMED and self.required > 0
                and self.attended(registration) >= self.required)


def seminar_completion(seminar: Seminar) -> SeminarCompletion:
    return SeminarCompletion(len(seminar.scheduled_sessions), sessions_required(seminar), _present_counts(seminar))


def completed_registrations(seminar: Seminar) -> list[Registration]:
    """Everyone who completed the seminar, by name. Anonymised registrations are included (they
    count); whoever needs a name (a certificate) skips those with `is_anonymised`."""
    required = sessions_required(seminar)
    if required == 0:
        return []
    present = _present_counts(seminar)
    done = [r for r in db.session.scalars(db.select(Registration).where(
        Registration.seminar_id == seminar.id, Registration.status == RegistrationStatus.CONFIRMED))
        if present.get(r.id, 0) >= required]
    return sorted(done, key=_name_key)


# --- certificates ----------------------------------------------------------------------------------

def has_certificate(registration: Registration) -> bool:
    """Completed the seminar, with a name still to print (an anonymised registration gets none)."""
    return not registration.is_anonymised and completed(registration)


def certificate_holders(seminar: Seminar) -> list[Registration]:
    """Everyone with a certificate of this seminar, by name."""
    return [r for r in completed_registrations(seminar) if not r.is_anonymised]


def participant_may_download_certificate(registration: Registration, *, now: datetime | None = None) -> bool:
    """The participant's own certificate, from their manage link: once the seminar is over (its last
    scheduled session has ended) and they completed it. The office may hand it out earlier."""
    last_end = registration.seminar.last_end
    return last_end is not None and last_end <= (now or utcnow()) and has_certificate(registration)


# --- "your certificate is ready" ----------------------------------------------------------------

# Seminars whose last session ended within this period are looked at by the worker's pass; a tick
# changed later (the office correcting a list) records the email itself (see `record`).
CERTIFICATE_NOTICE_PERIOD = timedelta(days=30)


def record_certificate_notices(now: datetime | None = None) -> int:
    """Record the "certificate ready" email for everyone who completed a seminar that is now over
    (its last scheduled session ended, within CERTIFICATE_NOTICE_PERIOD) and has not had it yet.
    Once per registration (booking.mail.outbox.certificate_ready). Flushes; the caller commits.
    Returns how many were recorded now."""
    now = now or utcnow()
    ended_recently = (db.select(Session.seminar_id)
                      .where(Session.status == SessionStatus.SCHEDULED, Session.ends_at > now - CERTIFICATE_NOTICE_PERIOD,
                             Session.ends_at <= now))
    seminars = db.session.scalars(db.select(Seminar).where(
        Seminar.status == SeminarStatus.PUBLISHED, Seminar.id.in_(ended_recently)).order_by(Seminar.id))
    recorded = 0
    for seminar in seminars:
        if seminar.last_end is None or seminar.last_end > now:
            continue  # a session still to come
        holders = certificate_holders(seminar)
        told = outbox.certificate_notice_recorded([r.id for r in holders])
        untold = [registration for registration in holders if registration.id not in told]
        for registration in untold:
            outbox.certificate_ready(registration)
        if untold:  # the worker asks every pass: a line only when something was recorded
            log.info("seminar %s: %d certificate emails recorded", seminar.id, len(untold))
        recorded += len(untold)
    return recorded


# --- rates ---------------------------------------------------------------------------------------

@dataclass
class SeminarAttendance:
    """A seminar's attendance for its workspace page: a roll per scheduled session, totals, completions."""

    seminar: Seminar
    rolls: list[SessionRoll]
    held: list[SessionRoll]  # sessions that have begun, or have ticks already
    participants: int  # with a place now
    completed: int
    required: int  # sessions to attend for "completed"
    share: float

    @property
    def rate(self) -> float | None:
        """Present over everyone on the lists of the sessions held, or None before the first."""
        listed = sum(len(roll.rows) for roll in self.held)
        return sum(roll.present for roll in self.held) / listed if listed else None


def seminar_attendance(seminar: Seminar, *, now: datetime | None = None) -> SeminarAttendance:
    now = now or utcnow()
    rolls = [session_roll(session) for session in seminar.scheduled_sessions]
    held = [roll for roll in rolls if roll.session.starts_at <= now or roll.ticked]
    participants = db.session.scalar(db.select(db.func.count(Registration.id)).where(
        Registration.seminar_id == seminar.id, Registration.status == RegistrationStatus.CONFIRMED)) or 0
    return SeminarAttendance(seminar, rolls, held, participants, len(completed_registrations(seminar)),
                             sessions_required(seminar), completion_share())


# --- many seminars at once (the funder's report, booking.reports) ---------------------------------
# The same rules as above, counted in SQL for any number of sessions or seminars with a fixed number
# of queries: `sessions` and `seminars` are SELECTs of ids (subqueries), never lists loaded first.

@dataclass
class RollTotals:
    """A session's list counted, as SessionRoll counts it: everyone with a place, plus anyone ticked."""

    listed: int = 0
    present: int = 0
    absent: int = 0
    excused: int = 0

    @property
    def ticked(self) -> int:
        return self.present + self.absent + self.excused


def roll_totals(sessions) -> dict[int, RollTotals]:
    """{session id: its list's counts} for the sessions whose ids `sessions` selects (two queries)."""
    totals: dict[int, RollTotals] = {}
    with_place = db.session.execute(
        db.select(Session.id, db.func.count(Registration.id))
        .join(Registration, Registration.seminar_id == Session.seminar_id)
        .where(Session.id.in_(sessions), Registration.status == RegistrationStatus.CONFIRMED)
        .group_by(Session.id))
    for session_id, count in with_place:
        totals.setdefault(session_id, RollTotals()).listed += count
    confirmed = Registration.status == RegistrationStatus.CONFIRMED
    ticks = db.session.execute(
        db.select(Attendance.session_id, Attendance.status, confirmed, db.func.count(Attendance.id))
        .join(Registration, Registration.id == Attendance.registration_id)
        .where(Attendance.session_id.in_(sessions))
        .group_by(Attendance.session_id, Attendance.status, confirmed))
    for session_id, status, has_place, count in ticks:
        roll = totals.setdefault(session_id, RollTotals())
        if not has_place:  # ticked here, without a place now: on the list all the same
            roll.listed += count
        if status == AttendanceStatus.PRESENT:
            roll.present += count
        elif status == AttendanceStatus.ABSENT:
            roll.absent += count
        else:
            roll.excused += count
    return totals


def completed_counts(seminars) -> dict[int, int]:
    """{seminar id: how many completed it} for the seminars whose ids `seminars` selects (two queries):
    `completed` for each of their registrations, counted."""
    scheduled = dict(db.session.execute(
        db.select(Session.seminar_id, db.func.count(Session.id))
        .where(Session.seminar_id.in_(seminars), Session.status == SessionStatus.SCHEDULED)
        .group_by(Session.seminar_id)).all())
    present = (db.select(Attendance.registration_id, db.func.count(Attendance.id).label("sessions"))
               .join(Session, Session.id == Attendance.session_id)
               .join(Registration, Registration.id == Attendance.registration_id)
               .where(Session.seminar_id.in_(seminars), Session.seminar_id == Registration.seminar_id,
                      Session.status == SessionStatus.SCHEDULED, Attendance.status == AttendanceStatus.PRESENT)
               .group_by(Attendance.registration_id).subquery())
    attended = db.func.coalesce(present.c.sessions, 0)
    rows = db.session.execute(
        db.select(Registration.seminar_id, attended, db.func.count(Registration.id))
        .outerjoin(present, present.c.registration_id == Registration.id)
        .where(Registration.seminar_id.in_(seminars), Registration.status == RegistrationStatus.CONFIRMED)
        .group_by(Registration.seminar_id, attended))
    counts: dict[int, int] = {}
    for seminar_id, sessions, registrations in rows:
        required = sessions_required_of(scheduled.get(seminar_id, 0))
        done = registrations if required > 0 and sessions >= required else 0
        counts[seminar_id] = counts.get(seminar_id, 0) + done
    return counts


# --- no-shows ------------------------------------------------------------------------------------

def _no_shows(since: datetime, until: datetime | None):
    query = (db.select(Registration.email_key, db.func.count(Attendance.id))
             .join(Attendance, Attendance.registration_id == Registration.id)
             .join(Session, Session.id == Attendance.session_id)
             .join(Seminar, Seminar.id == Session.seminar_id)
             .where(Attendance.status == AttendanceStatus.ABSENT, Session.status == SessionStatus.SCHEDULED,
                    Seminar.status != SeminarStatus.CANCELLED, Session.starts_at >= since)
             .group_by(Registration.email_key))
    if until is not None:
        query = query.where(Session.starts_at <= until)
    return query


def no_show_count(email_key: str | None, since: datetime, until: datetime | None = None) -> int:
    """Unexcused absences of the person with this email key at sessions starting from `since` on
    (and up to `until`, if given), across seminars. Anonymised registrations have no key: they count for nobody."""
    if not email_key:
        return 0
    row = db.session.execute(_no_shows(since, until).where(Registration.email_key == email_key)).first()
    return row[1] if row else 0


def no_show_marks(registrations: list[Registration], *, now: datetime | None = None) -> dict[int, int]:
    """{registration id: no-shows} for those of `registrations` whose person reached NO_SHOW_MARK
    unexcused absences in the last NO_SHOW_PERIOD: the office is told, nobody is refused."""
    now = now or utcnow()
    keys = {r.email_key for r in registrations if r.email_key}
    if not keys:
        return {}
    counts = dict(db.session.execute(
        _no_shows(now - NO_SHOW_PERIOD, now).where(Registration.email_key.in_(keys))).all())
    return {r.id: counts[r.email_key] for r in registrations
            if r.email_key and counts.get(r.email_key, 0) >= NO_SHOW_MARK}
