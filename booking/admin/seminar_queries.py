"""What the workspace's seminar pages read: the list in its three parts and one seminar's figures."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import selectinload

from .. import audit
from ..accounts.models import Role, User
from ..extensions import db
from ..registrations.models import Registration, RegistrationStatus
from ..seminars.models import Seminar, SeminarStatus, Topic
from ..seminars.services import registration_counts
from .services import SeminarFill, visible_seminars


@dataclass
class SeminarList:
    upcoming: list[SeminarFill] = field(default_factory=list)
    drafts: list[SeminarFill] = field(default_factory=list)
    past: list[SeminarFill] = field(default_factory=list)  # over or cancelled, newest first


def seminar_list(user, now: datetime) -> SeminarList:
    """Every seminar this user may see (a trainer: their own), sorted into upcoming, drafts and past."""
    seminars = list(db.session.scalars(visible_seminars(user).options(selectinload(Seminar.sessions))))
    counts = registration_counts([s.id for s in seminars])
    result = SeminarList()
    for seminar in seminars:
        fill = SeminarFill(seminar, counts[seminar.id].get(RegistrationStatus.CONFIRMED, 0),
                           counts[seminar.id].get(RegistrationStatus.WAITLISTED, 0))
        if seminar.status == SeminarStatus.DRAFT:
            result.drafts.append(fill)
        elif seminar.status == SeminarStatus.PUBLISHED and any(s.ends_at > now for s in seminar.scheduled_sessions):
            result.upcoming.append(fill)
        else:
            result.past.append(fill)
    far = datetime.max.replace(tzinfo=now.tzinfo)
    result.upcoming.sort(key=lambda f: (f.seminar.first_start or far, f.seminar.title))
    result.drafts.sort(key=lambda f: (f.seminar.first_start or far, f.seminar.title))
    result.past.sort(key=lambda f: (f.seminar.last_end or f.seminar.created_at), reverse=True)
    return result


def seminar_fill(seminar: Seminar) -> SeminarFill:
    counts = registration_counts([seminar.id])[seminar.id]
    offered = db.session.scalar(db.select(db.func.count(Registration.id)).where(
        Registration.seminar_id == seminar.id, Registration.status == RegistrationStatus.WAITLISTED,
        Registration.offer_expires_at.is_not(None))) or 0
    return SeminarFill(seminar, counts.get(RegistrationStatus.CONFIRMED, 0),
                       counts.get(RegistrationStatus.WAITLISTED, 0), offered)


def seminar_by_id(seminar_id: int) -> Seminar | None:
    return db.session.get(Seminar, seminar_id)


def audit_log(seminar: Seminar) -> list[audit.AuditEntry]:
    """The seminar's history. Attendance ticks (one entry per participant and session) are shown on
    each registration's page instead, where they do not crowd out the seminar's own changes."""
    return audit.entries_for(seminar=seminar, exclude=("attendance.recorded",))


def trainer_accounts() -> list[User]:
    """Active trainer accounts, for the trainer select."""
    return list(db.session.scalars(
        db.select(User).where(User.role == Role.TRAINER, User.active.is_(True)).order_by(User.display_name)))


def topics_in_use() -> list[tuple[Topic, int]]:
    """Every topic with how many seminars use it."""
    rows = db.session.execute(
        db.select(Topic, db.func.count(Seminar.id)).outerjoin(Seminar, Seminar.topic_id == Topic.id)
        .group_by(Topic.id).order_by(Topic.name))
    return [(topic, count) for topic, count in rows]
