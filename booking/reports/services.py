"""The funder's report for a period: what the programme did, in counts only.

**Which seminars count.** A session is *held* when it is scheduled (not cancelled), its seminar is
published (not a draft, not cancelled) and it has begun by the time the report is made. A seminar
counts in the period [start, end] (whole days in BOOKING_TIMEZONE) when at least one of its sessions
held starts in it. Everything about registrations is counted over those seminars; everything about
attendance over the sessions held in the period.

**What is counted.**
- *Participants*: registrations with a place (confirmed) now; a person in two seminars counts twice.
  Anonymised registrations (booking.privacy) count like any other.
- *Attendance rate*: present over everyone on the lists of the sessions held (a session's list is
  attendance's rule: everyone with a place, and anyone ticked there). Nobody ticked counts as not present.
- *No-show rate*: absent without excuse over everyone ticked (present, absent or excused).
- *Completion rate*: completed (attendance's rule, BOOKING_COMPLETION_SHARE) over the participants of
  the seminars whose last scheduled session is over.
- *Waiting-list demand*: registrations that never had a place: still on the waiting list, or left it
  (cancelled, declined or let an offer run out) without one.

A fixed number of queries, whatever the number of seminars, sessions or people: every count is a
GROUP BY in SQL (or summed here from rows that are already counts, one per session or seminar).
Time is passed in (`now=`); nothing here reads the clock except as a default.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from ..associations.models import Association
from ..attendance import services as attendance
from ..database import utcnow
from ..extensions import db
from ..formatting import local_zone, to_local
from ..registrations.models import Registration, RegistrationStatus
from ..seminars.models import Seminar, SeminarStatus, Session, SessionStatus, Topic

# The longest period a report covers: its month chart stays readable, and a mistyped year is caught.
MAX_YEARS = 3


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def longest_end(start: date) -> date:
    """The last day a period beginning on `start` may end on (MAX_YEARS, the end day included)."""
    return add_years(start, MAX_YEARS) - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC-comparable moments: from start's midnight to the midnight after end (excluded)."""
        zone = local_zone()
        return (datetime.combine(self.start, time(), tzinfo=zone),
                datetime.combine(self.end + timedelta(days=1), time(), tzinfo=zone))

    def months(self) -> list[date]:
        """The first day of every month the period touches, in order."""
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months


def default_period(today: date) -> Period:
    """The calendar year so far: what the annual report to the funder covers."""
    return Period(today.replace(month=1, day=1), today)


def sort_key(text: str) -> str:
    """Names in the order a reader looks for them: accents and case aside (Ö with O)."""
    return "".join(char for char in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(char)).casefold()


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class TopicRow:
    topic: str
    seminars: int = 0
    sessions: int = 0
    participants: int = 0
    listed: int = 0
    present: int = 0


@dataclass
class MonthRow:
    month: date
    sessions: int = 0
    listed: int = 0
    present: int = 0


@dataclass
class Count:
    label: str  # a name as stored (an association's, a district), or a language code
    count: int
    key: str | None = None  # None: the bucket of those without one ("no association", "district not given")


@dataclass
class WaitingRow:
    seminar: str
    topic: str
    still_waiting: int = 0
    left: int = 0

    @property
    def total(self) -> int:
        return self.still_waiting + self.left


@dataclass
class Report:
    period: Period
    made_at: datetime
    seminars: int = 0
    sessions: int = 0
    participants: int = 0
    in_groups: int = 0  # registered by an association's contact (a group registration)
    listed: int = 0
    present: int = 0
    absent: int = 0
    excused: int = 0
    over_participants: int = 0  # participants of the seminars that are over
    completed: int = 0
    topics: list[TopicRow] = field(default_factory=list)
    months: list[MonthRow] = field(default_factory=list)
    associations: list[Count] = field(default_factory=list)
    districts: list[Count] = field(default_factory=list)
    instruction_languages: list[Count] = field(default_factory=list)  # seminars per language
    preferred_languages: list[Count] = field(default_factory=list)  # participants per language
    waiting: list[WaitingRow] = field(default_factory=list)  # per seminar
    waiting_by_topic: list[WaitingRow] = field(default_factory=list)  # seminar: ""

    @property
    def single(self) -> int:
        return self.participants - self.in_groups

    @property
    def ticked(self) -> int:
        return self.present + self.absent + self.excused

    @property
    def attendance_rate(self) -> float | None:
        return rate(self.present, self.listed)

    @property
    def no_show_rate(self) -> float | None:
        return rate(self.absent, self.ticked)

    @property
    def completion_rate(self) -> float | None:
        return rate(self.completed, self.over_participants)

    @property
    def waiting_total(self) -> int:
        return sum(row.total for row in self.waiting)

    @property
    def is_empty(self) -> bool:
        return self.seminars == 0


def _held_sessions(period: Period, now: datetime):
    start, end = period.bounds()
    return (db.select(Session.id).join(Seminar, Seminar.id == Session.seminar_id)
            .where(Session.status == SessionStatus.SCHEDULED, Seminar.status == SeminarStatus.PUBLISHED,
                   Session.starts_at >= start, Session.starts_at < end, Session.starts_at <= now))


def build(period: Period, *, now: datetime | None = None) -> Report:
    """The report for `period` as of `now`, in eight queries whatever the data (one for an empty period)."""
    now = now or utcnow()
    report = Report(period, now)
    held = _held_sessions(period, now)
    seminars = db.select(Session.seminar_id).where(Session.id.in_(held)).distinct()

    # 1. the sessions held, with their seminar and topic: one row per session
    sessions = db.session.execute(
        db.select(Session.id, Session.seminar_id, Session.starts_at, Seminar.title, Seminar.languages, Topic.name)
        .join(Seminar, Seminar.id == Session.seminar_id).join(Topic, Topic.id == Seminar.topic_id)
        .where(Session.id.in_(held)).order_by(Topic.name, Seminar.title, Session.starts_at)).all()
    if not sessions:
        report.months = [MonthRow(month) for month in period.months()]
        return report
    seminar_topic = {row.seminar_id: row.name for row in sessions}
    seminar_title = {row.seminar_id: row.title for row in sessions}
    seminar_languages = {row.seminar_id: row.languages.split() for row in sessions}

    # 2-3. attendance at each session held (attendance's lists)
    rolls = attendance.roll_totals(held)
    # 4-5. completions, over the seminars whose last scheduled session is over
    over = (db.select(Session.seminar_id).where(Session.seminar_id.in_(seminars),
                                                Session.status == SessionStatus.SCHEDULED)
            .group_by(Session.seminar_id).having(db.func.max(Session.ends_at) <= now))
    completed = attendance.completed_counts(over)
    # 6. registrations, counted per seminar, status, association, language and group or not
    grouped = Registration.registered_by_contact_id.is_not(None)
    never_placed = Registration.confirmed_at.is_(None)
    registrations = db.session.execute(
        db.select(Registration.seminar_id, Registration.status, Registration.association_id,
                  Registration.preferred_language, grouped.label("in_group"), never_placed.label("never_placed"),
                  db.func.count(Registration.id).label("count"))
        .where(Registration.seminar_id.in_(seminars))
        .group_by(Registration.seminar_id, Registration.status, Registration.association_id,
                  Registration.preferred_language, grouped, never_placed)).all()
    # 7. the names and districts of the associations among them (organisations, not people)
    associations = {a.id: a for a in db.session.execute(
        db.select(Association.id, Association.name, Association.district)
        .where(Association.id.in_(db.select(Registration.association_id)
                                  .where(Registration.seminar_id.in_(seminars))))).all()}
    # 8. which of the seminars are over (completion's base)
    over_ids = set(db.session.scalars(over))

    topics: dict[str, TopicRow] = {}
    months = {month: MonthRow(month) for month in period.months()}
    for row in sessions:
        topic = topics.setdefault(row.name, TopicRow(row.name))
        roll = rolls.get(row.id, attendance.RollTotals())
        topic.sessions += 1
        topic.listed += roll.listed
        topic.present += roll.present
        first_day = to_local(row.starts_at).date().replace(day=1)
        month = months.setdefault(first_day, MonthRow(first_day))
        month.sessions += 1
        month.listed += roll.listed
        month.present += roll.present
        report.listed += roll.listed
        report.present += roll.present
        report.absent += roll.absent
        report.excused += roll.excused
    report.sessions = len(sessions)
    report.seminars = len(seminar_topic)
    for seminar_id, topic in seminar_topic.items():
        topics[topic].seminars += 1

    by_association: Counter = Counter()
    by_district: Counter = Counter()
    by_language: Counter = Counter()
    waiting: dict[int, WaitingRow] = {}
    for row in registrations:
        count = row.count
        if row.status == RegistrationStatus.CONFIRMED:
            report.participants += count
            report.in_groups += count if row.in_group else 0
            topics[seminar_topic[row.seminar_id]].participants += count
            if row.seminar_id in over_ids:
                report.over_participants += count
            association = associations.get(row.association_id)
            by_association[(association.id, association.name) if association else None] += count
            district = association.district.strip() if association else ""
            by_district[district or None] += count
            by_language[row.preferred_language] += count
        elif row.never_placed:
            entry = waiting.setdefault(row.seminar_id, WaitingRow(seminar_title[row.seminar_id],
                                                                  seminar_topic[row.seminar_id]))
            if row.status == RegistrationStatus.WAITLISTED:
                entry.still_waiting += count
            else:
                entry.left += count
    report.completed = sum(completed.values())

    report.topics = sorted(topics.values(), key=lambda row: sort_key(row.topic))
    report.months = sorted(months.values(), key=lambda row: row.month)
    report.associations = _counts(
        (key[1] if key else "", count, str(key[0]) if key else None) for key, count in by_association.items())
    report.districts = _counts((key or "", count, key) for key, count in by_district.items())
    report.preferred_languages = _counts((code, count, code) for code, count in by_language.items())
    instruction = Counter(code for codes in seminar_languages.values() for code in codes)
    report.instruction_languages = _counts((code, count, code) for code, count in instruction.items())
    report.waiting = sorted((row for row in waiting.values() if row.total),
                            key=lambda row: (sort_key(row.topic), sort_key(row.seminar)))
    per_topic: dict[str, WaitingRow] = {}
    for row in report.waiting:
        entry = per_topic.setdefault(row.topic, WaitingRow("", row.topic))
        entry.still_waiting += row.still_waiting
        entry.left += row.left
    report.waiting_by_topic = list(per_topic.values())
    return report


def _counts(values) -> list[Count]:
    """(label, count, key) as Counts: most first, then by name; the bucket without a key (none given) last."""
    rows = [Count(label, count, key) for label, count, key in values]
    return sorted(rows, key=lambda row: (row.key is None, -row.count, sort_key(row.label)))
