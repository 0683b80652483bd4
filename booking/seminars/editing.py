"""Planning the programme: creating, editing, publishing, duplicating and deleting seminars; topics.

The coordinator workspace calls these; each function checks its rules under the seminar's lock,
flushes but never commits, and records an audit entry for every change. A refusal is an
exception carrying its user-facing message and the field it concerns, so the form can show it
beside that field.

Changes participants must hear of go through booking.seminars.scheduling (a moved session, a
new place) and booking.mail.outbox (a new session's invitation), in the same transaction.
Two coordinators editing the same seminar: every save raises `Seminar.version`; a form sent
with an older version is refused with what was changed meanwhile (EditConflict).
"""
from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..database import utcnow
from ..extensions import db
from ..languages import INSTRUCTION_LANGUAGES
from ..mail import outbox
from ..registrations.models import Registration, RegistrationStatus
from ..registrations.services import confirmed_count, lock_seminar, places_taken, promote_waitlisted
from . import scheduling
from .models import Seminar, SeminarStatus, Session, SessionStatus, Topic

log = logging.getLogger(__name__)

MAX_DUPLICATE_WEEKS = 260

# The fields a save may change, in the order the form shows them (names as in SeminarDetails).
DETAIL_FIELDS = ("title", "topic_id", "summary", "description", "languages", "interpreting_available", "trainer", "trainer_user_id",
                 "venue_name", "venue_address", "online_url", "capacity", "max_per_association",
                 "registration_deadline")


class SeminarRefused(Exception):
    """Nothing was stored; `message` says why, `field` names the form field, `index` the session row."""

    def __init__(self, message, *, field: str | None = None, index: int | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.index = index


class EditConflict(SeminarRefused):
    """Someone saved the seminar after this form was filled in; `entries` say who changed what."""

    def __init__(self, entries: list[audit.AuditEntry], version: int):
        super().__init__(_l("Someone else saved this seminar while you were editing it. Your entries are "
                            "kept below: check them against the changes listed, then save again."))
        self.entries = entries
        self.version = version


@dataclass
class SeminarDetails:
    """What the office enters about a seminar (times are timezone-aware)."""

    title: str
    topic_id: int
    summary: str = ""
    description: str = ""
    languages: list[str] = field(default_factory=lambda: ["de"])
    interpreting_available: bool = False
    trainer: str = ""
    trainer_user_id: int | None = None
    venue_name: str = ""
    venue_address: str = ""
    online_url: str | None = None
    capacity: int = 12
    max_per_association: int | None = None
    registration_deadline: datetime | None = None

    @classmethod
    def of(cls, seminar: Seminar) -> SeminarDetails:
        return cls(**{name: getattr(seminar, name) for name in DETAIL_FIELDS if name != "languages"},
                   languages=seminar.language_codes)

    def stored_value(self, name: str):
        value = getattr(self, name)
        return " ".join(value) if name == "languages" else value


@dataclass
class SessionPlan:
    """One session row of the form: an existing session (`id`) or a new one (`id` None)."""

    starts_at: datetime
    ends_at: datetime
    venue_name: str = ""
    venue_address: str = ""
    id: int | None = None


@dataclass
class Notices:
    """What saving a published seminar would tell participants (asked before the save)."""

    changed_sessions: list[Session] = field(default_factory=list)
    added_sessions: int = 0
    participants: int = 0  # confirmed participants who are sent updates or invitations

    @property
    def needed(self) -> bool:
        return bool(self.participants and (self.changed_sessions or self.added_sessions))

    def fingerprint(self) -> str:
        """Identifies exactly this set of announcements: a confirmation is valid for it only."""
        text = repr(([s.id for s in self.changed_sessions], self.added_sessions, self.participants))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class SaveResult:
    seminar: Seminar
    told: int = 0
    promoted: int = 0
    changed: list[str] = field(default_factory=list)


# --- reading ---------------------------------------------------------------------------------------

def editable_sessions(seminar: Seminar, now: datetime) -> list[Session]:
    """The sessions the form offers as rows: all of a draft's; a published seminar's scheduled, not over."""
    if seminar.status == SeminarStatus.DRAFT:
        return list(seminar.sessions)
    return [s for s in seminar.scheduled_sessions if s.ends_at > now]


def registration_total(seminar: Seminar) -> int:
    return db.session.scalar(
        db.select(func.count(Registration.id)).where(Registration.seminar_id == seminar.id)) or 0


def changes_since(seminar: Seminar, version: int) -> list[audit.AuditEntry]:
    """The saves of this seminar after `version`, oldest first."""
    entries = [entry for entry in audit.entries_for(seminar=seminar, limit=100, exclude=("attendance.recorded",))
               if entry.action in ("seminar.edited", "seminar.published")
               and (entry.detail or {}).get("version", 0) > version]
    return list(reversed(entries))


# --- checks ----------------------------------------------------------------------------------------

def check(details: SeminarDetails, sessions: list[SessionPlan]) -> None:
    """The rules every saved seminar keeps, whatever its state; raises SeminarRefused."""
    if details.capacity is None or details.capacity < 1:
        raise SeminarRefused(_l("Please enter a capacity of at least 1."), field="capacity")
    if details.max_per_association is not None and details.max_per_association < 1:
        raise SeminarRefused(_l("Please enter at least 1, or leave the field empty for no maximum."),
                             field="max_per_association")
    if details.max_per_association is not None and details.max_per_association > details.capacity:
        raise SeminarRefused(_l("The maximum per association cannot be above the capacity."),
                             field="max_per_association")
    if not details.languages or any(code not in INSTRUCTION_LANGUAGES for code in details.languages):
        raise SeminarRefused(_l("Please choose at least one language."), field="languages")
    if db.session.get(Topic, details.topic_id) is None:
        raise SeminarRefused(_l("Please choose a topic."), field="topic_id")
    if details.trainer_user_id is not None:
        from ..accounts.models import User

        user = db.session.get(User, details.trainer_user_id)
        if user is None or not user.active:
            raise SeminarRefused(_l("Please choose a trainer from the list."), field="trainer_user_id")
    for index, plan in enumerate(sessions):
        if plan.ends_at <= plan.starts_at:
            raise SeminarRefused(_l("The session must end after it starts."), field="ends", index=index)
    if details.registration_deadline is not None and sessions:
        last_end = max(plan.ends_at for plan in sessions)
        if details.registration_deadline > last_end:
            raise SeminarRefused(_l("The registration deadline must be before the end of the last session."),
                                 field="registration_deadline")


def _check_capacity(seminar: Seminar, capacity: int) -> None:
    confirmed = places_taken(seminar)  # a place offered (a late place) is held as one given
    if capacity < confirmed:
        raise SeminarRefused(
            _l("%(count)d participants already have a place: the capacity cannot be lower than that.",
               count=confirmed), field="capacity")


# --- creating --------------------------------------------------------------------------------------

def slugify(text: str, max_length: int = 100) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")
    return slug or "seminar"


def unique_slug(text: str, model=Seminar, max_length: int = 100) -> str:
    """A slug for the address (ASCII; "seminar" for a title in another script), unique with -2, -3 ..."""
    base = slugify(text, max_length)
    taken = set(db.session.scalars(db.select(model.slug).where(model.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _apply_details(seminar: Seminar, details: SeminarDetails) -> list[str]:
    changed = []
    for name in DETAIL_FIELDS:
        value = details.stored_value(name)
        if getattr(seminar, name) != value:
            setattr(seminar, name, value)
            changed.append(name)
    return changed


def seminar_created_with(creation_key: str | None) -> Seminar | None:
    if not creation_key:
        return None
    return db.session.scalar(db.select(Seminar).where(Seminar.creation_key == creation_key))


def create_seminar(details: SeminarDetails, sessions: list[SessionPlan], *,
                   creation_key: str | None = None) -> Seminar:
    """A new seminar as a draft; nobody outside the office sees it until it is published.

    `creation_key`, the form's one-time key: the same form sent again returns the seminar it
    created the first time instead of creating another.
    """
    existing = seminar_created_with(creation_key)
    if existing is not None:
        return existing
    check(details, sessions)
    seminar = Seminar(slug=unique_slug(details.title), status=SeminarStatus.DRAFT, version=1,
                      title=details.title, topic_id=details.topic_id, capacity=details.capacity,
                      creation_key=creation_key or None)
    _apply_details(seminar, details)
    for plan in sessions:
        seminar.sessions.append(Session(starts_at=plan.starts_at, ends_at=plan.ends_at,
                                        venue_name=plan.venue_name or None, venue_address=plan.venue_address or None))
    try:
        with db.session.begin_nested():
            db.session.add(seminar)
            db.session.flush()
    except IntegrityError:
        # the same form, sent twice at once: the other request created it
        existing = seminar_created_with(creation_key)
        if existing is None:
            raise
        return existing
    audit.record("seminar.created", seminar=seminar, version=seminar.version, sessions=len(sessions))
    log.info("seminar %s created as a draft", seminar.id)
    return seminar


# --- editing ---------------------------------------------------------------------------------------

def _place(name: str, address: str, details: SeminarDetails) -> str:
    return ", ".join(part for part in (name or details.venue_name, address or details.venue_address) if part)


def plan_notices(seminar: Seminar, details: SeminarDetails, sessions: list[SessionPlan],
                 now: datetime) -> Notices:
    """Who would be told what if this form were saved: nothing for a draft."""
    notices = Notices()
    if seminar.status != SeminarStatus.PUBLISHED:
        return notices
    by_id = {s.id: s for s in editable_sessions(seminar, now)}
    for plan in sessions:
        if plan.id is None:
            notices.added_sessions += 1
            continue
        session = by_id.get(plan.id)
        if session is None:
            continue
        place = _place(plan.venue_name, plan.venue_address, details)
        if (plan.starts_at, plan.ends_at, place) != (session.starts_at, session.ends_at,
                                                    scheduling.announced(session)["place"]):
            notices.changed_sessions.append(session)
    if notices.changed_sessions or notices.added_sessions:
        notices.participants = confirmed_count(seminar)
    return notices


def _differs(seminar: Seminar, details: SeminarDetails, sessions: list[SessionPlan], now: datetime) -> bool:
    """Whether saving these values would change anything stored."""
    if any(getattr(seminar, name) != details.stored_value(name) for name in DETAIL_FIELDS):
        return True
    stored = sorted((s.id, s.starts_at, s.ends_at, s.venue_name or "", s.venue_address or "")
                    for s in editable_sessions(seminar, now))
    sent = sorted(((p.id or 0), p.starts_at, p.ends_at, p.venue_name, p.venue_address) for p in sessions)
    return stored != sent


def update_seminar(seminar: Seminar, details: SeminarDetails, sessions: list[SessionPlan], *,
                   version: int, now: datetime | None = None) -> SaveResult:
    """Save the edit form: the seminar's details and its session rows, in one decision.

    A draft's rows are stored as they are (a row left out is deleted). A published seminar's
    upcoming sessions are changed through scheduling.change_session (participants get a calendar
    update; never into the past), new rows are invited to by everyone with a place, and a
    session is removed only by cancelling it (cancel_session, with a reason). Raising the
    capacity gives the new places to the waiting list at once.
    """
    now = now or utcnow()
    seminar = lock_seminar(seminar)
    if seminar.version != version:
        if not _differs(seminar, details, sessions, now):
            return SaveResult(seminar)  # the same form sent twice: saved already
        raise EditConflict(changes_since(seminar, version), seminar.version)
    if seminar.status == SeminarStatus.CANCELLED:
        raise SeminarRefused(_l("This seminar has been cancelled and can no longer be changed."))
    check(details, sessions)
    _check_capacity(seminar, details.capacity)
    editable = {s.id: s for s in editable_sessions(seminar, now)}
    for index, plan in enumerate(sessions):
        if plan.id is not None and plan.id not in editable:
            raise SeminarRefused(_l("This session can no longer be changed here. Please reload the page."),
                                 field="starts", index=index)
    kept = {plan.id for plan in sessions if plan.id is not None}
    published = seminar.status == SeminarStatus.PUBLISHED
    if published and set(editable) - kept:
        raise SeminarRefused(_l("A session of a published seminar is removed by cancelling it, "
                                "so that its participants are told."))
    if published:
        for index, plan in enumerate(sessions):
            if plan.id is None and plan.starts_at <= now:
                raise SeminarRefused(scheduling.PAST_MESSAGE, field="starts", index=index)

    result = SaveResult(seminar)
    old_capacity = seminar.capacity
    before = {session_id: scheduling.announced(s) for session_id, s in editable.items()}
    result.changed = _apply_details(seminar, details)
    db.session.flush()
    session_changes = 0
    for index, plan in enumerate(sessions):
        if plan.id is None:
            continue
        session = editable[plan.id]
        if not published:
            values = (plan.starts_at, plan.ends_at, plan.venue_name or None, plan.venue_address or None)
            if values != (session.starts_at, session.ends_at, session.venue_name, session.venue_address):
                session.starts_at, session.ends_at, session.venue_name, session.venue_address = values
                session_changes += 1
            continue
        try:
            told = scheduling.change_session(session, starts_at=plan.starts_at, ends_at=plan.ends_at,
                                             venue_name=plan.venue_name, venue_address=plan.venue_address,
                                             now=now, announced_before=before[plan.id])
        except scheduling.ScheduleChangeRefused as refused:
            raise SeminarRefused(refused.message, field="ends" if refused.field == "ends_at" else "starts",
                                 index=index) from None
        if scheduling.announced(session) != before[plan.id]:
            session_changes += 1
            result.told = max(result.told, told)
    if not published:
        for session_id in set(editable) - kept:
            seminar.sessions.remove(editable[session_id])
            session_changes += 1
    for plan in sessions:
        if plan.id is not None:
            continue
        session = Session(starts_at=plan.starts_at, ends_at=plan.ends_at,
                          venue_name=plan.venue_name or None, venue_address=plan.venue_address or None)
        seminar.sessions.append(session)
        db.session.flush()
        session_changes += 1
        if published:
            told = outbox.session_added(session)
            result.told = max(result.told, told)
            audit.record("session.added", seminar=seminar, session_id=session.id, told=told)
            log.info("session %s added to seminar %s: %s invitations", session.id, seminar.id, told)
    if session_changes:
        result.changed.append("sessions")
    db.session.flush()
    if published and seminar.capacity > old_capacity:
        result.promoted = len(promote_waitlisted(seminar, now))
    if result.changed:
        seminar.version += 1
        db.session.flush()
        audit.record("seminar.edited", seminar=seminar, version=seminar.version, changed=result.changed,
                     promoted=result.promoted)
        log.info("seminar %s edited (version %s): %s", seminar.id, seminar.version, ", ".join(result.changed))
    return result


# --- publishing, cancelling, deleting, duplicating -------------------------------------------------

def publish(seminar: Seminar, *, now: datetime | None = None) -> Seminar:
    """Open a draft for registration: it appears in the catalogue. Needs a session still to come."""
    now = now or utcnow()
    seminar = lock_seminar(seminar)
    if seminar.status == SeminarStatus.PUBLISHED:
        return seminar  # published already (the button pressed twice)
    if seminar.status != SeminarStatus.DRAFT:
        raise SeminarRefused(_l("Only a draft can be published."))
    if not any(s.starts_at > now for s in seminar.scheduled_sessions):
        raise SeminarRefused(_l("A seminar needs at least one session in the future before it can be published."))
    if seminar.registration_deadline is not None and seminar.registration_deadline <= now:
        raise SeminarRefused(_l("The registration deadline has passed. Please change it before publishing."),
                             field="registration_deadline")
    seminar.status = SeminarStatus.PUBLISHED
    seminar.version += 1
    db.session.flush()
    audit.record("seminar.published", seminar=seminar, version=seminar.version)
    log.info("seminar %s published", seminar.id)
    return seminar


def cancel_seminar(seminar: Seminar, *, reason: str, now: datetime | None = None) -> int:
    """Cancel a published seminar (everyone is told, with the reason); a draft is deleted instead."""
    if seminar.status == SeminarStatus.DRAFT:
        raise SeminarRefused(_l("A draft is not cancelled but deleted."))
    try:
        told = scheduling.cancel_seminar(seminar, reason=reason, now=now)
    except scheduling.ScheduleChangeRefused as refused:
        raise SeminarRefused(refused.message) from None
    seminar.version += 1
    db.session.flush()
    return told


def cancel_session(session: Session, *, reason: str, now: datetime | None = None) -> int:
    """Cancel one upcoming session of a published seminar; its participants are told why."""
    now = now or utcnow()
    if session.seminar.status != SeminarStatus.PUBLISHED:
        raise SeminarRefused(_l("Only a session of a published seminar is cancelled; in a draft, remove it."))
    if session.ends_at <= now:
        raise SeminarRefused(scheduling.OVER_MESSAGE)
    try:
        told = scheduling.cancel_session(session, reason=reason)
    except scheduling.ScheduleChangeRefused as refused:
        raise SeminarRefused(refused.message) from None
    session.seminar.version += 1
    db.session.flush()
    return told


def delete_draft(seminar: Seminar) -> None:
    """Delete a draft nobody registered for; anything else stays (cancel a published seminar instead)."""
    seminar = lock_seminar(seminar)
    if seminar.status != SeminarStatus.DRAFT:
        raise SeminarRefused(_l("Only a draft can be deleted. A published seminar is cancelled instead."))
    if registration_total(seminar):
        raise SeminarRefused(_l("This seminar has registrations and cannot be deleted."))
    audit.record("seminar.deleted", seminar_id=seminar.id, title=seminar.title)
    log.info("seminar %s deleted (a draft)", seminar.id)
    db.session.delete(seminar)
    db.session.flush()


def duplicate(seminar: Seminar, *, weeks: int, creation_key: str | None = None) -> Seminar:
    """Run it again: a draft with everything but the registrations, its dates `weeks` weeks later."""
    if not 1 <= weeks <= MAX_DUPLICATE_WEEKS:
        raise SeminarRefused(_l("Please enter a number of weeks between 1 and %(max)d.", max=MAX_DUPLICATE_WEEKS),
                             field="weeks")
    existing = seminar_created_with(creation_key)
    if existing is not None:
        return existing
    shift = timedelta(weeks=weeks)
    details = SeminarDetails.of(seminar)
    if details.registration_deadline is not None:
        details.registration_deadline += shift
    if details.trainer_user_id is not None:
        from ..accounts.models import User

        user = db.session.get(User, details.trainer_user_id)
        if user is None or not user.active:
            details.trainer_user_id = None
    copy = create_seminar(details, [
        SessionPlan(starts_at=s.starts_at + shift, ends_at=s.ends_at + shift,
                    venue_name=s.venue_name or "", venue_address=s.venue_address or "")
        for s in seminar.scheduled_sessions
    ], creation_key=creation_key)
    audit.record("seminar.duplicated", seminar=seminar, copy_id=copy.id, weeks=weeks)
    return copy


# --- topics ----------------------------------------------------------------------------------------

def _topic_named(name: str, other_than: Topic | None = None) -> Topic | None:
    query = db.select(Topic).where(func.lower(Topic.name) == name.lower())
    if other_than is not None:
        query = query.where(Topic.id != other_than.id)
    return db.session.scalar(query)


def add_topic(name: str) -> Topic:
    if _topic_named(name) is not None:
        raise SeminarRefused(_l("There is already a topic with this name."), field="name")
    topic = Topic(name=name, slug=unique_slug(name, Topic, max_length=70))
    db.session.add(topic)
    db.session.flush()
    audit.record("topic.added", topic_id=topic.id, name=name)
    return topic


def rename_topic(topic: Topic, name: str) -> Topic:
    """A new name; the slug (in catalogue filter links) stays, so old links keep working."""
    if _topic_named(name, other_than=topic) is not None:
        raise SeminarRefused(_l("There is already a topic with this name."), field="name")
    if topic.name != name:
        audit.record("topic.renamed", topic_id=topic.id, before=topic.name, after=name)
        topic.name = name
        db.session.flush()
    return topic


def topic_use(topic: Topic) -> int:
    return db.session.scalar(db.select(func.count(Seminar.id)).where(Seminar.topic_id == topic.id)) or 0


def delete_topic(topic: Topic) -> None:
    used = topic_use(topic)
    if used:
        raise SeminarRefused(_l("This topic is used by %(count)d seminars and cannot be deleted. "
                                "Rename it instead, or give those seminars another topic first.", count=used))
    audit.record("topic.deleted", topic_id=topic.id, name=topic.name)
    db.session.delete(topic)
    db.session.flush()


def counts_by_status(seminar: Seminar) -> dict[RegistrationStatus, int]:
    rows = db.session.execute(
        db.select(Registration.status, func.count(Registration.id))
        .where(Registration.seminar_id == seminar.id).group_by(Registration.status))
    return {RegistrationStatus(status): count for status, count in rows}

