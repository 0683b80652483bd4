"""The one module that builds iCalendar objects: invitations, cancellations and subscription feeds.

What real calendar clients need (see shared/reference/calendar-invites.md) is decided here once:
bare `mailto:` addresses, ORGANIZER equal to the sender, one stable UID per registration and
session, and times with a TZID whose VTIMEZONE sits in the same object, written in the classic
two-block form with yearly RRULEs (the RDATE form of `add_missing_timezones()` is misread by
Outlook and ical.js). The VTIMEZONE is derived from the zoneinfo transitions of BOOKING_TIMEZONE
and checked against every time it has to describe; a zone that no pair of yearly rules
describes for those times (one without summer time, or one changing its rules) gets UTC times
instead, which every client reads right.
"""
from __future__ import annotations

import calendar as month_calendar
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from email.utils import parseaddr
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from ..external_links import external_url
from ..registrations.models import Registration, RegistrationStatus
from ..seminars.models import Seminar, Session

PRODID = "-//booking//Seminar booking//EN"

_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


# --- Addresses and UIDs --------------------------------------------------------------------------

def bare_address(address: str) -> str:
    """The address part of `Name <x@y>` (or of a bare address), without a display name."""
    _name, addr = parseaddr(address)
    addr = addr.strip()
    if not addr or "@" not in addr:
        raise ValueError(f"not an email address: {address!r}")
    return addr


def sender_address() -> str:
    return bare_address(current_app.config["BOOKING_MAIL_SENDER"])


def _uid_domain() -> str:
    return sender_address().rsplit("@", 1)[1].lower()


def registration_event_uid(registration: Registration, session: Session) -> str:
    """The UID of one registration's event for one session, stable across updates and the cancel.

    Per registration, not per person: an association contact may receive invitations for
    several members for the same session, and each must stay a separate event.
    """
    return f"booking-reg-{registration.public_id}-session-{session.id}@{_uid_domain()}"


def session_feed_uid(session: Session) -> str:
    """The UID of a session in public feeds (the seminar's and the catalogue's)."""
    return f"booking-session-{session.id}@{_uid_domain()}"


def seminar_page_url(seminar: Seminar) -> str:
    """The link every event of a registration carries: the seminar's public page.

    Never the manage link: calendars are shared with family, colleagues and assistants, and an
    event's URL and description are read by all of them; the email keeps the manage link.
    """
    return external_url("public.seminar", slug=seminar.slug)


# --- Objects -------------------------------------------------------------------------------------

def invitation(registration: Registration, session: Session, *, sequence: int, attendee_email: str,
               attendee_name: str, summary: str | None = None, description: str | None = None,
               now: datetime | None = None) -> bytes:
    """An iTIP REQUEST for one session: a new invitation or an update (same UID, higher `sequence`)."""
    return _itip("REQUEST", registration, session, sequence=sequence, attendee_email=attendee_email,
                 attendee_name=attendee_name, summary=summary, description=description, now=now)


def cancellation(registration: Registration, session: Session, *, sequence: int, attendee_email: str,
                 attendee_name: str, summary: str | None = None, description: str | None = None,
                 now: datetime | None = None) -> bytes:
    """An iTIP CANCEL for one session. `sequence` must be higher than that of the last REQUEST sent."""
    return _itip("CANCEL", registration, session, sequence=sequence, attendee_email=attendee_email,
                 attendee_name=attendee_name, summary=summary, description=description, now=now)


def feed(events: Iterable[Session], *, name: str, now: datetime | None = None,
         url: Callable[[Session], str] | None = None) -> bytes:
    """A PUBLISH calendar of sessions for subscription (a seminar's, or the catalogue's).

    `url`, if given, maps a session to the link shown with it. Cancelled sessions stay in the
    feed with STATUS:CANCELLED so that subscribed calendars drop them.
    """
    sessions = list(events)
    stamp = _stamp(now)
    zone = _event_zone([s.starts_at for s in sessions] + [s.ends_at for s in sessions])
    cal = _calendar("PUBLISH", name=name)
    _add_timezone(cal, zone)
    for session in sessions:
        event = _event(session, uid=session_feed_uid(session), sequence=session.revision, zone=zone,
                       stamp=stamp, summary=None, description=None, url=url(session) if url else None,
                       meeting_link=None)  # a public feed: the meeting link is for participants
        event.add("status", "CANCELLED" if session.is_cancelled else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()


def registration_feed(registration: Registration, *, name: str | None = None, now: datetime | None = None) -> bytes:
    """A PUBLISH calendar of one registration's sessions, with the UIDs of its invitations.

    SEQUENCE follows `event_sequence`, so a client that holds the invitation sees the feed's
    copy as the same event in the same state, not as an older or a conflicting one.
    """
    sessions = list(registration.seminar.sessions)
    stamp = _stamp(now)
    zone = _event_zone([s.starts_at for s in sessions] + [s.ends_at for s in sessions])
    cal = _calendar("PUBLISH", name=name or registration.seminar.title)
    _add_timezone(cal, zone)
    for session in sessions:
        event = _event(session, uid=registration_event_uid(registration, session),
                       sequence=event_sequence(registration, session), zone=zone, stamp=stamp,
                       summary=None, description=None, url=seminar_page_url(registration.seminar),
                       meeting_link=registration.meeting_link)
        event.add("status", _registration_event_status(registration, session))
        cal.add_component(event)
    return cal.to_ical()


def contact_feed(registrations: Iterable[Registration], *, name: str, summary: Callable[[Registration], str],
                 now: datetime | None = None) -> bytes:
    """A PUBLISH calendar for an association contact: every session of the registrations given.

    One event per member and session, with the UID of that member's invitation (so a contact who
    received the invitation on a member's behalf sees one event, not two); `summary` names the member.
    """
    pairs = [(registration, session) for registration in registrations for session in registration.seminar.sessions]
    stamp = _stamp(now)
    zone = _event_zone([s.starts_at for _r, s in pairs] + [s.ends_at for _r, s in pairs])
    cal = _calendar("PUBLISH", name=name)
    _add_timezone(cal, zone)
    for registration, session in pairs:
        event = _event(session, uid=registration_event_uid(registration, session),
                       sequence=event_sequence(registration, session), zone=zone, stamp=stamp,
                       summary=summary(registration), description=None,
                       url=seminar_page_url(registration.seminar), meeting_link=registration.meeting_link)
        event.add("status", _registration_event_status(registration, session))
        cal.add_component(event)
    return cal.to_ical()


def event_sequence(registration: Registration, session: Session) -> int:
    """The SEQUENCE a registration's event for `session` has now.

    The session's revision; one higher once the registration is cancelled (and the session is
    not), because the participant's CANCEL must outrank the last REQUEST they received.
    """
    if registration.status == RegistrationStatus.CANCELLED and not session.is_cancelled:
        return session.revision + 1
    return session.revision


def _registration_event_status(registration: Registration, session: Session) -> str:
    if session.is_cancelled or registration.status == RegistrationStatus.CANCELLED:
        return "CANCELLED"
    if registration.status == RegistrationStatus.WAITLISTED:
        return "TENTATIVE"
    return "CONFIRMED"


def _itip(method: str, registration: Registration, session: Session, *, sequence: int, attendee_email: str,
          attendee_name: str, summary: str | None, description: str | None, now: datetime | None) -> bytes:
    zone = _event_zone([session.starts_at, session.ends_at])
    cal = _calendar(method)
    _add_timezone(cal, zone)
    event = _event(session, uid=registration_event_uid(registration, session), sequence=sequence, zone=zone,
                   stamp=_stamp(now), summary=summary, description=description,
                   url=seminar_page_url(registration.seminar), meeting_link=registration.meeting_link)
    event.add("status", "CONFIRMED" if method == "REQUEST" else "CANCELLED")
    event.add("organizer", _organizer())
    event.add("attendee", _attendee(attendee_email, attendee_name))
    cal.add_component(event)
    return cal.to_ical()


def _calendar(method: str, *, name: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    return cal


def _event(session: Session, *, uid: str, sequence: int, zone: _ZoneDescription | None, stamp: datetime,
           summary: str | None, description: str | None, url: str | None, meeting_link: str | None) -> Event:
    seminar = session.seminar
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", _local(session.starts_at, zone))
    event.add("dtend", _local(session.ends_at, zone))
    event.add("sequence", sequence)
    event.add("summary", summary or seminar.title)
    location = session_location(session, meeting_link)
    if location:
        event.add("location", location)
    text = "\n\n".join(part for part in (description if description is not None else seminar.summary, url) if part)
    if text:
        event.add("description", text)
    if url:
        event.add("url", url)
    event.add("transp", "OPAQUE")
    return event


def session_location(session: Session, meeting_link: str | None) -> str:
    """Where a session is: its place; for an online session the meeting link, if given, else "Online".

    `meeting_link` is `Registration.meeting_link` (None for the waiting list, a cancelled
    registration and public feeds): who may see the link is decided there, once.
    """
    place = ", ".join(part for part in (session.place_name, session.place_address) if part)
    if place or not session.seminar.online_url:
        return place
    return meeting_link or _("Online")


def _organizer() -> vCalAddress:
    organizer = vCalAddress(f"mailto:{sender_address()}")
    organizer.params["CN"] = current_app.config["BOOKING_OFFICE_NAME"]
    return organizer


def _attendee(email: str, name: str) -> vCalAddress:
    attendee = vCalAddress(f"mailto:{bare_address(email)}")
    if name:
        attendee.params["CN"] = name
    attendee.params["CUTYPE"] = "INDIVIDUAL"
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "NEEDS-ACTION"
    attendee.params["RSVP"] = "TRUE"
    return attendee


def _stamp(now: datetime | None) -> datetime:
    stamp = now or datetime.now(timezone.utc)
    if stamp.tzinfo is None:
        raise ValueError("naive datetime given for DTSTAMP")
    return stamp.astimezone(timezone.utc).replace(microsecond=0)


def _local(moment: datetime, zone: _ZoneDescription | None) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; sessions are stored timezone-aware")
    if zone is None:
        return moment.astimezone(timezone.utc)
    return moment.astimezone(ZoneInfo(zone.key))


# --- Time zone -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _YearlyOnset:
    """One yearly change of offset: `week` 1..4 or -1 (last) `weekday` of `month`, at `at` local time."""

    month: int
    week: int
    weekday: int
    at: time
    offset_from: timedelta
    offset_to: timedelta
    name: str
    is_dst: bool

    def local_onset(self, year: int) -> datetime:
        days_in_month = month_calendar.monthrange(year, self.month)[1]
        if self.week == -1:
            last = date(year, self.month, days_in_month)
            day = last - timedelta(days=(last.weekday() - self.weekday) % 7)
        else:
            first = date(year, self.month, 1)
            day = first + timedelta(days=(self.weekday - first.weekday()) % 7 + 7 * (self.week - 1))
            if day.month != self.month:
                raise ValueError("no such weekday in this month")
        return datetime.combine(day, self.at)

    def utc_onset(self, year: int) -> datetime:
        return (self.local_onset(year) - self.offset_from).replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class _ZoneDescription:
    """What the VTIMEZONE says: a pair of yearly onsets (daylight and standard time)."""

    key: str
    onsets: tuple[_YearlyOnset, ...]

    def offset_at(self, moment: datetime) -> timedelta:
        candidates = [(onset.utc_onset(year), onset.offset_to)
                      for year in (moment.year - 1, moment.year, moment.year + 1) for onset in self.onsets]
        passed = [offset for start, offset in sorted(candidates) if start <= moment]
        return passed[-1]


def _configured_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BOOKING_TIMEZONE"])


def _event_zone(moments: list[datetime]) -> _ZoneDescription | None:
    """How to write `moments`: in BOOKING_TIMEZONE with this VTIMEZONE, or (None) in UTC.

    UTC when no pair of yearly rules gives zoneinfo's offset at every one of `moments`: a zone
    changing its rules, and zones without summer time (UTC itself, Asia/Kolkata). For the latter
    a one-block VTIMEZONE without RRULE would be correct, but `ical` (Home Assistant's parser)
    then finds no onset and reads the times as UTC; UTC times are read right everywhere.
    Also UTC when a moment falls in the hour repeated as summer time ends: its local time is
    ambiguous, and parsers disagree (RFC 5545 and icalendar take the first occurrence, ical.js
    and libical the second), so one of them would be an hour off.
    """
    zone = _configured_zone()
    if any(_in_repeated_hour(m, zone) for m in moments):
        return None
    return _fitting_description(zone.key, tuple(sorted({m.astimezone(timezone.utc) for m in moments})))


def _in_repeated_hour(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether the local time of `moment` in `zone` occurs twice (when the clocks go back)."""
    local = moment.astimezone(zone)
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def _add_timezone(cal: Calendar, description: _ZoneDescription | None) -> None:
    """Add the VTIMEZONE the event times refer to (None: times are UTC and need none)."""
    if description is None:
        return
    vtimezone = Timezone()
    vtimezone.add("tzid", description.key)
    for onset in sorted(description.onsets, key=lambda o: not o.is_dst):
        block = TimezoneDaylight() if onset.is_dst else TimezoneStandard()
        block.add("dtstart", onset.local_onset(1970))
        block.add("rrule", {"freq": "yearly", "bymonth": onset.month,
                            "byday": f"{onset.week}{_WEEKDAY_CODES[onset.weekday]}"})
        block.add("tzoffsetfrom", onset.offset_from)
        block.add("tzoffsetto", onset.offset_to)
        block.add("tzname", onset.name)
        vtimezone.add_component(block)
    cal.add_component(vtimezone)


@lru_cache(maxsize=256)
def _fitting_description(key: str, moments: tuple[datetime, ...]) -> _ZoneDescription | None:
    """A yearly-rule description of zone `key` that gives zoneinfo's offset at every moment, if any."""
    zone = ZoneInfo(key)
    years = sorted({m.year for m in moments}) or [datetime.now(timezone.utc).year]
    for year in years:
        for description in _candidate_descriptions(zone, year):
            if all(description.offset_at(m) == m.astimezone(zone).utcoffset() for m in moments):
                return description
    return None


def _candidate_descriptions(zone: ZoneInfo, year: int) -> list[_ZoneDescription]:
    changes = _offset_changes(zone, year)
    if len(changes) != 2:
        return []
    variants = [_onset_variants(zone, instant, before, after) for instant, before, after in changes]
    return [_ZoneDescription(zone.key, pair) for pair in itertools.product(*variants)]


def _onset_variants(zone: ZoneInfo, instant: datetime, before: timedelta, after: timedelta) -> list[_YearlyOnset]:
    """The yearly rules that put an onset at `instant`: the n-th weekday, and 'last' when it may be that."""
    local = (instant + before).replace(tzinfo=None)
    after_local = instant.astimezone(zone)
    days_in_month = month_calendar.monthrange(local.year, local.month)[1]
    weeks = [(local.day - 1) // 7 + 1]
    if local.day + 7 > days_in_month:
        weeks.insert(0, -1)
    return [
        _YearlyOnset(month=local.month, week=week, weekday=local.weekday(), at=local.time(),
                     offset_from=before, offset_to=after, name=after_local.tzname() or "",
                     is_dst=bool(after_local.dst()))
        for week in weeks if week <= 4 or week == -1
    ]


@lru_cache(maxsize=512)
def _offset_changes(zone: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """The instants (UTC, to the minute) in `year` at which `zone` changes its UTC offset."""
    def offset(moment: datetime) -> timedelta:
        return moment.astimezone(zone).utcoffset()

    changes = []
    day = datetime(year, 1, 1, tzinfo=timezone.utc)
    end = datetime(year + 1, 1, 1, tzinfo=timezone.utc)
    while day < end:
        following = day + timedelta(days=1)
        if offset(day) != offset(following):
            low, high = 0, 24 * 60  # minutes after `day`: offset(low) is the old one, offset(high) the new
            while high - low > 1:
                middle = (low + high) // 2
                if offset(day + timedelta(minutes=middle)) == offset(day):
                    low = middle
                else:
                    high = middle
            instant = day + timedelta(minutes=high)
            changes.append((instant, offset(day), offset(instant)))
        day = following
    return changes


_METHOD_LINE = re.compile(rb"^METHOD:([A-Za-z-]+)\r?$", re.MULTILINE)


def calendar_method(data: bytes) -> str:
    """The METHOD of an iCalendar object, upper case (what the MIME `method` parameter must repeat)."""
    match = _METHOD_LINE.search(data)
    if match is None:
        raise ValueError("iCalendar object without METHOD")
    return match.group(1).decode("ascii").upper()
