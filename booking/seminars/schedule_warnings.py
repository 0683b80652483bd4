"""Scheduling help: what to look at again about a session's date, as warnings that never refuse a save.

A session still to come is warned about when it
- overlaps another scheduled session of the same trainer (the same trainer account; or, when either seminar has
  no account, the same trainer name, ignoring case and spaces),
- overlaps another scheduled session at the same venue (the session's place, else its seminar's: name and address
  compared after normalising case, spaces, punctuation and "Straße"/"Str."; an online session has no venue),
- overlaps another session of its own seminar,
- falls on a public holiday in Hesse (the `holidays` package), or
- falls in the Hessian school holidays (booking.seminars.school_holidays, a file the office updates), or after
  the last day that file knows (so that the office updates it).

Cancelled sessions, sessions of cancelled seminars and sessions that are over are neither warned about nor
warned of; drafts count (a draft is a plan the office is making). The same rule serves the seminar's page
(`session_warnings`, for the stored sessions) and the editor (`plan_warnings`, for the rows of a form, before or
after they are saved), so both always show the same warnings.
"""
from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..formatting import to_local
from .models import Seminar, SeminarStatus, Session, SessionStatus
from .school_holidays import school_holidays

# The public holidays of Hesse as the `holidays` package names them in German, in the page's language.
PUBLIC_HOLIDAY_NAMES = {
    "Neujahr": _l("New Year's Day"),
    "Karfreitag": _l("Good Friday"),
    "Ostermontag": _l("Easter Monday"),
    "Erster Mai": _l("Labour Day"),
    "Christi Himmelfahrt": _l("Ascension Day"),
    "Pfingstmontag": _l("Whit Monday"),
    "Fronleichnam": _l("Corpus Christi"),
    "Tag der Deutschen Einheit": _l("German Unity Day"),
    "Erster Weihnachtstag": _l("Christmas Day"),
    "Zweiter Weihnachtstag": _l("Second Day of Christmas"),
}


class WarningKind(enum.StrEnum):
    SAME_TRAINER = "same_trainer"
    SAME_VENUE = "same_venue"
    OWN_OVERLAP = "own_overlap"  # two sessions of the same seminar at once
    PUBLIC_HOLIDAY = "public_holiday"
    SCHOOL_HOLIDAY = "school_holiday"
    SCHOOL_HOLIDAYS_UNKNOWN = "school_holidays_unknown"  # after the last day the school holiday file knows


@dataclass(frozen=True)
class OtherSession:
    """The session a warning is about: a stored one (`session_id`), or a row of the form not saved yet (`row`)."""

    seminar_id: int | None
    seminar_title: str
    starts_at: datetime
    ends_at: datetime
    session_id: int | None = None
    row: int | None = None  # the editor's row number, from 1
    draft: bool = False


@dataclass(frozen=True)
class ScheduleWarning:
    kind: WarningKind
    other: OtherSession | None = None
    name: object = ""  # the holiday's name, in the page's language (a lazy string)
    first_day: date | None = None  # the day, or the school holidays' first and last day
    last_day: date | None = None


@dataclass
class _Slot:
    """One session to check: stored or planned, with what decides its clashes."""

    starts_at: datetime
    ends_at: datetime
    venue: tuple[str, str] | None
    as_other: OtherSession
    warnings: list[ScheduleWarning] = field(default_factory=list)


@dataclass(frozen=True)
class _Trainer:
    user_id: int | None
    name: str

    @classmethod
    def of(cls, user_id: int | None, name: str | None) -> _Trainer:
        return cls(user_id, " ".join(unicodedata.normalize("NFKC", name or "").casefold().split()))

    @property
    def known(self) -> bool:
        return self.user_id is not None or bool(self.name)

    def same_as(self, other: _Trainer) -> bool:
        if self.user_id is not None and other.user_id is not None:
            return self.user_id == other.user_id
        return bool(self.name) and self.name == other.name


def _normalised(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()  # casefold also makes "ß" "ss"
    text = re.sub(r"strasse\b|str\b\.?", "str", text)
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def venue_key(name: str | None, address: str | None) -> tuple[str, str] | None:
    """What makes two places the same venue; None for no place (an online session)."""
    key = (_normalised(name), _normalised(address))
    return key if any(key) else None


def _overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end  # one ending as the other starts is no overlap


def _local_days(starts_at: datetime, ends_at: datetime) -> tuple[date, date]:
    return to_local(starts_at).date(), to_local(ends_at - timedelta(microseconds=1)).date()


@lru_cache(maxsize=32)
def _public_holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("DE", subdiv="HE", years=year, language="de"))


def public_holidays_between(first: date, last: date) -> list[tuple[date, object]]:
    """The Hessian public holidays from `first` to `last`, with their names in the page's language."""
    found = []
    for year in range(first.year, last.year + 1):
        for day, name in sorted(_public_holidays(year).items()):
            if first <= day <= last:
                for part in name.split("; "):  # the package joins two holidays on one day with "; "
                    found.append((day, PUBLIC_HOLIDAY_NAMES.get(part, part)))
    return found


def _other_sessions(seminar_id: int | None, window_start: datetime, window_end: datetime) -> list[Session]:
    query = (db.select(Session).join(Session.seminar).options(contains_eager(Session.seminar))
             .where(Seminar.status != SeminarStatus.CANCELLED, Session.status == SessionStatus.SCHEDULED,
                    Session.starts_at < window_end, Session.ends_at > window_start)
             .order_by(Session.starts_at, Session.id))
    if seminar_id is not None:
        query = query.where(Session.seminar_id != seminar_id)
    return list(db.session.scalars(query).unique())


def _as_other(session: Session) -> OtherSession:
    return OtherSession(seminar_id=session.seminar_id, seminar_title=session.seminar.title,
                        starts_at=session.starts_at, ends_at=session.ends_at, session_id=session.id,
                        draft=session.seminar.status == SeminarStatus.DRAFT)


def _check(slots: list[_Slot], trainer: _Trainer, seminar_id: int | None) -> None:
    """Fill each slot's warnings: overlaps first (in time order), then holidays (by day)."""
    if not slots:
        return
    others = _other_sessions(seminar_id, min(s.starts_at for s in slots), max(s.ends_at for s in slots))
    school = school_holidays()
    for slot in slots:
        for other in others:
            if not _overlap(slot.starts_at, slot.ends_at, other.starts_at, other.ends_at):
                continue
            seminar = other.seminar
            if trainer.known and trainer.same_as(_Trainer.of(seminar.trainer_user_id, seminar.trainer)):
                slot.warnings.append(ScheduleWarning(WarningKind.SAME_TRAINER, other=_as_other(other)))
            if slot.venue is not None and slot.venue == venue_key(other.place_name, other.place_address):
                slot.warnings.append(ScheduleWarning(WarningKind.SAME_VENUE, other=_as_other(other)))
        for sibling in slots:
            if sibling is not slot and _overlap(slot.starts_at, slot.ends_at, sibling.starts_at, sibling.ends_at):
                slot.warnings.append(ScheduleWarning(WarningKind.OWN_OVERLAP, other=sibling.as_other))
        first, last = _local_days(slot.starts_at, slot.ends_at)
        for day, name in public_holidays_between(first, last):
            slot.warnings.append(ScheduleWarning(WarningKind.PUBLIC_HOLIDAY, name=name, first_day=day))
        for period in school.on(first, last):
            slot.warnings.append(ScheduleWarning(WarningKind.SCHOOL_HOLIDAY, name=period.display_name,
                                                 first_day=period.first_day, last_day=period.last_day))
        if school.covered_until is not None and last > school.covered_until:
            slot.warnings.append(ScheduleWarning(WarningKind.SCHOOL_HOLIDAYS_UNKNOWN, first_day=school.covered_until))


def session_warnings(seminar: Seminar, *, now: datetime) -> dict[int, list[ScheduleWarning]]:
    """The warnings of each of the seminar's scheduled sessions still to come, by session id (none: no entry)."""
    if seminar.status == SeminarStatus.CANCELLED:
        return {}
    draft = seminar.status == SeminarStatus.DRAFT
    slots = [_Slot(s.starts_at, s.ends_at, venue_key(s.place_name, s.place_address),
                   OtherSession(seminar.id, seminar.title, s.starts_at, s.ends_at, session_id=s.id, draft=draft))
             for s in seminar.scheduled_sessions if s.ends_at > now]
    _check(slots, _Trainer.of(seminar.trainer_user_id, seminar.trainer), seminar.id)
    return {slot.as_other.session_id: slot.warnings for slot in slots if slot.warnings}


@dataclass(frozen=True)
class PlannedSession:
    """A row of the editor: its number (from 1), its times and its own place (empty: the seminar's)."""

    row: int
    starts_at: datetime
    ends_at: datetime
    venue_name: str = ""
    venue_address: str = ""
    session_id: int | None = None


def plan_warnings(rows: list[PlannedSession], *, seminar: Seminar | None, trainer_user_id: int | None,
                  trainer: str, venue_name: str, venue_address: str,
                  now: datetime) -> dict[int, list[ScheduleWarning]]:
    """The warnings of the editor's rows as they stand in the form (saved or not), by row number.

    `seminar` is the seminar being edited (None for a new one): its stored sessions are replaced by the rows,
    so they are not compared with them.
    """
    seminar_id = seminar.id if seminar is not None else None
    title = seminar.title if seminar is not None else ""
    draft = seminar is None or seminar.status == SeminarStatus.DRAFT
    slots = [_Slot(r.starts_at, r.ends_at, venue_key(r.venue_name or venue_name, r.venue_address or venue_address),
                   OtherSession(seminar_id, title, r.starts_at, r.ends_at, session_id=r.session_id, row=r.row,
                                draft=draft))
             for r in rows if r.ends_at > r.starts_at and r.ends_at > now]
    _check(slots, _Trainer.of(trainer_user_id, trainer), seminar_id)
    return {slot.as_other.row: slot.warnings for slot in slots if slot.warnings}


def count(warnings: dict[int, list[ScheduleWarning]]) -> int:
    return sum(len(found) for found in warnings.values())
