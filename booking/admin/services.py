"""What the workspace reads: the dashboard's figures, in a few queries."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..formatting import to_local
from ..mail.models import MessageStatus, OutboxMessage
from ..registrations.models import Registration, RegistrationStatus
from ..seminars.models import Seminar, SeminarStatus, Session, SessionStatus
from ..seminars.services import registration_counts
from . import access


@dataclass
class SeminarFill:
    seminar: Seminar
    confirmed: int
    waitlisted: int
    offered: int = 0  # of the waiting list: a late place offered now, held for them until they answer

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.confirmed / self.seminar.capacity)) if self.seminar.capacity else 0


@dataclass
class Dashboard:
    seminars: list[SeminarFill] = field(default_factory=list)
    week_sessions: list[Session] = field(default_factory=list)
    # sessions starting today whose attendance list this user may tick (access.can_record_attendance)
    today_sessions: list[Session] = field(default_factory=list)
    newest: list[Registration] = field(default_factory=list)
    cancelled: list[Registration] = field(default_factory=list)
    failed_emails: int = 0
    waiting_emails: int = 0


def visible_seminars(user):
    """A query of the seminars this user may see: all for a coordinator, their own for a trainer."""
    query = db.select(Seminar)
    if not access.is_coordinator(user):
        query = query.where(Seminar.trainer_user_id == user.id)
    return query


def dashboard(user, now: datetime) -> Dashboard:
    """The morning question, "what needs me today?", in one screen."""
    upcoming_ids = (
        db.select(Session.seminar_id)
        .where(Session.status == SessionStatus.SCHEDULED, Session.ends_at > now)
    )
    seminars = list(db.session.scalars(
        visible_seminars(user)
        .where(Seminar.status != SeminarStatus.CANCELLED, Seminar.id.in_(upcoming_ids))
        .options(selectinload(Seminar.sessions))
    ))
    seminars.sort(key=lambda s: (s.first_start or now, s.title))
    counts = registration_counts([s.id for s in seminars])
    result = Dashboard(seminars=[
        SeminarFill(s, counts[s.id].get(RegistrationStatus.CONFIRMED, 0), counts[s.id].get(RegistrationStatus.WAITLISTED, 0))
        for s in seminars
    ])
    local_today = to_local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = local_today - timedelta(days=local_today.weekday())
    seminar_ids = [s.id for s in seminars]
    result.week_sessions = list(db.session.scalars(
        db.select(Session)
        .where(Session.seminar_id.in_(seminar_ids), Session.status == SessionStatus.SCHEDULED,
               Session.starts_at >= week_start, Session.starts_at < week_start + timedelta(days=7))
        .order_by(Session.starts_at)
    )) if seminar_ids else []
    visible_ids = visible_seminars(user).with_only_columns(Seminar.id)
    result.today_sessions = todays_sessions(visible_ids, local_today)
    result.newest = list(db.session.scalars(
        db.select(Registration).where(Registration.seminar_id.in_(visible_ids))
        .order_by(Registration.created_at.desc(), Registration.id.desc()).limit(10)
    ))
    result.cancelled = list(db.session.scalars(
        db.select(Registration).where(Registration.seminar_id.in_(visible_ids),
                                      Registration.status == RegistrationStatus.CANCELLED)
        .order_by(Registration.cancelled_at.desc(), Registration.id.desc()).limit(10)
    ))
    if access.can_manage(user):
        result.failed_emails = db.session.scalar(
            db.select(db.func.count(OutboxMessage.id)).where(OutboxMessage.status == MessageStatus.FAILED)) or 0
        result.waiting_emails = db.session.scalar(
            db.select(db.func.count(OutboxMessage.id)).where(
                OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.attempts > 0)) or 0
    return result


def todays_sessions(visible_ids, local_today: datetime) -> list[Session]:
    """The scheduled sessions of published seminars starting on `local_today` (midnight in
    BOOKING_TIMEZONE), among the seminars in `visible_ids`: those whose attendance lists the user
    may tick (a coordinator every one, a trainer their own, as access.can_record_attendance says)."""
    return list(db.session.scalars(
        db.select(Session).join(Seminar, Seminar.id == Session.seminar_id)
        .where(Seminar.id.in_(visible_ids), Seminar.status == SeminarStatus.PUBLISHED,
               Session.status == SessionStatus.SCHEDULED,
               Session.starts_at >= local_today, Session.starts_at < local_today + timedelta(days=1))
        .options(selectinload(Session.seminar))
        .order_by(Session.starts_at, Session.id)
    ))
