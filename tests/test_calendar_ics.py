"""iCalendar objects: what real clients need (iTIP rules), checked in three independent parsers.

icalendar, `ical` and vobject resolve a known TZID such as Europe/Berlin from their own zone
database; calendar clients like Thunderbird (ical.js) use the VTIMEZONE in the object. So times
are also checked with the TZID renamed to one no parser knows, which makes every parser read our
VTIMEZONE blocks (a VTIMEZONE with a wrong rule fails that check: see the tampered test).
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import icalendar
import pytest
import vobject
from ical.calendar_stream import IcsCalendarStream

from booking.calendar import ics
from booking.extensions import db
from booking.registrations import services as registrations
from booking.seminars.models import SessionStatus

from tests.calendar_support import STAMP, SUMMER, WINTER, YEAR, invite, invite_move_cancel, session_at
from tests.factories import make_registration, make_seminar, utc

TITLE = 'Vereinsrecht, Steuern; "Grundlagen" – Ümit\'s Kurs'


@pytest.fixture
def seminar(app_ctx):
    return make_seminar(sessions=[WINTER, SUMMER], title=TITLE)


@pytest.fixture
def registration(seminar):
    return make_registration(seminar, first_name="Ayşe", last_name="Çelik", email="ayse.celik@example.net")


def parse_everywhere(data: bytes):
    """Parse in icalendar, `ical` (strict) and vobject (validate=True); each raises on invalid input."""
    text = data.decode("utf-8")
    return (icalendar.Calendar.from_ical(data),
            IcsCalendarStream.calendar_from_ics(text),
            vobject.readOne(text, validate=True))


def assert_wire_format(data: bytes):
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "bare LF"
    assert b"\r" not in data.replace(b"\r\n", b""), "bare CR"
    lines = data.split(b"\r\n")[:-1]
    for line in lines:
        assert len(line) <= 75, f"line longer than 75 octets: {line!r}"
        line.decode("utf-8")  # folding must not cut a UTF-8 sequence in two
    assert any(line.startswith(b" ") for line in lines), "expected folded lines in this object"


def property_lines(data: bytes, name: str, component: str = "VEVENT") -> list[str]:
    """The unfolded lines of property `name` inside `component` blocks."""
    unfolded = data.decode("utf-8").replace("\r\n ", "")
    found, inside = [], False
    for line in unfolded.split("\r\n"):
        if line in (f"BEGIN:{component}", f"END:{component}"):
            inside = line.startswith("BEGIN")
        elif inside and re.match(rf"{name}[;:]", line):
            found.append(line)
    return found


def utc_times_in_parsers(data: bytes) -> set[tuple[datetime, datetime]]:
    """(DTSTART, DTEND) in UTC as each parser resolves them: one element when they all agree."""
    ical_cal, ical_strict, vcal = parse_everywhere(data)
    event = ical_cal.walk("VEVENT")[0]
    found = {
        (event.decoded("dtstart").astimezone(timezone.utc), event.decoded("dtend").astimezone(timezone.utc)),
        (ical_strict.events[0].dtstart.astimezone(timezone.utc), ical_strict.events[0].dtend.astimezone(timezone.utc)),
        (vcal.vevent.dtstart.value.astimezone(timezone.utc), vcal.vevent.dtend.value.astimezone(timezone.utc)),
    }
    return found


def utc_times_from_own_vtimezone(data: bytes) -> set[tuple[datetime, datetime]]:
    """As utc_times_in_parsers, with the TZID renamed so that only the object's VTIMEZONE can resolve it."""
    tzid = property_lines(data, "TZID", "VTIMEZONE")[0].split(":", 1)[1]
    renamed = data.replace(tzid.encode(), f"Booking-Test-{uuid.uuid4().hex}".encode())
    ical_cal, ical_strict, _ = parse_everywhere(renamed)
    assert type(ical_strict.events[0].dtstart.tzinfo).__module__.startswith("ical."), "ical used a zone database"
    return utc_times_in_parsers(renamed)


def test_invitation_is_a_valid_itip_request(seminar, registration):
    session = session_at(seminar, SUMMER[0])
    data = invite(registration, session, sequence=3)

    assert_wire_format(data)
    ical_cal, ical_strict, vcal = parse_everywhere(data)
    assert ical_cal["METHOD"] == "REQUEST" and vcal.method.value == "REQUEST"
    assert ical_cal["VERSION"] == "2.0" and ical_cal["PRODID"] == ics.PRODID
    [event] = ical_cal.walk("VEVENT")
    assert event["UID"] == ics.registration_event_uid(registration, session)
    assert event["UID"] == f"booking-reg-{registration.public_id}-session-{session.id}@example.org"
    assert event.decoded("dtstamp") == STAMP
    assert property_lines(data, "DTSTAMP") == ["DTSTAMP:" + STAMP.strftime("%Y%m%dT%H%M%SZ")]
    assert event["SEQUENCE"] == 3 and ical_strict.events[0].sequence == 3
    assert event["STATUS"] == "CONFIRMED"
    assert event["SUMMARY"] == TITLE
    assert event["LOCATION"] == "Haus der Vereine, Bieberer Straße 1, 63065 Offenbach am Main"
    assert event.walk("VALARM") == []

    assert property_lines(data, "ORGANIZER") == ['ORGANIZER;CN="Integration Office":mailto:seminars@example.org']
    assert str(event["ORGANIZER"]) == "mailto:seminars@example.org"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:ayse.celik@example.net"
    assert attendee.params["CN"] == "Ayşe Çelik"
    assert (attendee.params["ROLE"], attendee.params["PARTSTAT"], attendee.params["RSVP"]) == (
        "REQ-PARTICIPANT", "NEEDS-ACTION", "TRUE")
    [strict_attendee] = ical_strict.events[0].attendees
    assert (strict_attendee.uri, strict_attendee.common_name, strict_attendee.role, strict_attendee.status,
            strict_attendee.rsvp) == ("mailto:ayse.celik@example.net", "Ayşe Çelik", "REQ-PARTICIPANT",
                                      "NEEDS-ACTION", True)
    assert ical_strict.events[0].organizer.uri == "mailto:seminars@example.org"
    assert vcal.vevent.attendee.value == "mailto:ayse.celik@example.net"
    assert vcal.vevent.attendee.params["RSVP"] == ["TRUE"]


def test_times_carry_a_tzid_with_a_two_block_vtimezone(seminar, registration):
    data = invite(registration, session_at(seminar, SUMMER[0]))

    assert property_lines(data, "DTSTART;TZID=Europe/Berlin") == [f"DTSTART;TZID=Europe/Berlin:{YEAR}0715T180000"]
    assert property_lines(data, "DTEND;TZID=Europe/Berlin") == [f"DTEND;TZID=Europe/Berlin:{YEAR}0715T203000"]
    [vtimezone] = icalendar.Calendar.from_ical(data).walk("VTIMEZONE")
    assert vtimezone["TZID"] == "Europe/Berlin"
    daylight, standard = vtimezone.walk("DAYLIGHT"), vtimezone.walk("STANDARD")
    assert len(daylight) == 1 and len(standard) == 1, "the classic two-block form"
    assert "RDATE" not in daylight[0] and "RDATE" not in standard[0]
    assert daylight[0].decoded("dtstart") == datetime(1970, 3, 29, 2, 0)
    assert daylight[0]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"
    assert standard[0].decoded("dtstart") == datetime(1970, 10, 25, 3, 0)
    assert standard[0]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"
    one, two = timedelta(hours=1), timedelta(hours=2)
    assert (daylight[0].decoded("tzoffsetfrom"), daylight[0].decoded("tzoffsetto")) == (one, two)
    assert (standard[0].decoded("tzoffsetfrom"), standard[0].decoded("tzoffsetto")) == (two, one)


@pytest.mark.parametrize("times, expected_utc_hour", [(SUMMER, 16), (WINTER, 17)])
def test_an_evening_in_berlin_resolves_to_the_right_utc_time(seminar, registration, times, expected_utc_hour):
    data = invite(registration, session_at(seminar, times[0]))
    assert property_lines(data, "DTSTART")[0].endswith("T180000")
    expected = {times}
    assert times[0].hour == expected_utc_hour
    assert utc_times_in_parsers(data) == expected
    assert utc_times_from_own_vtimezone(data) == expected


def test_a_wrong_vtimezone_rule_would_be_caught(seminar, registration):
    """The own-VTIMEZONE check reads the blocks: moving the DST start to August shifts July by an hour."""
    data = invite(registration, session_at(seminar, SUMMER[0]))
    tampered = data.replace(b"BYMONTH=3", b"BYMONTH=8")
    assert utc_times_from_own_vtimezone(tampered) == {(SUMMER[0] + timedelta(hours=1), SUMMER[1] + timedelta(hours=1))}


def test_update_and_cancellation_keep_the_uid_and_raise_the_sequence(seminar, registration):
    session = session_at(seminar, SUMMER[0])
    first, update, cancel = invite_move_cancel(registration, session)

    objects = [parse_everywhere(data) for data in (first, update, cancel)]
    events = [cal.walk("VEVENT")[0] for cal, _, _ in objects]
    assert len({event["UID"] for event in events}) == 1
    assert {strict.events[0].uid for _, strict, _ in objects} == {events[0]["UID"]}
    assert [event["SEQUENCE"] for event in events] == [0, 1, 2]
    assert [event.decoded("dtstamp") for event in events] == [STAMP + timedelta(days=d) for d in range(3)]
    assert [cal["METHOD"] for cal, _, _ in objects] == ["REQUEST", "REQUEST", "CANCEL"]
    assert utc_times_from_own_vtimezone(update) == {(SUMMER[0] + timedelta(hours=1), SUMMER[1] + timedelta(hours=1))}

    cancel_event = events[2]
    assert cancel_event["STATUS"] == "CANCELLED"
    assert objects[2][1].events[0].status == "CANCELLED"
    assert str(cancel_event["ORGANIZER"]) == "mailto:seminars@example.org"
    assert str(cancel_event["ATTENDEE"]) == "mailto:ayse.celik@example.net"
    assert b"VALARM" not in cancel
    assert_wire_format(cancel)


def test_uids_are_per_registration_and_per_session(seminar, registration):
    colleague = make_registration(seminar, email="colleague@example.net")
    summer, winter = session_at(seminar, SUMMER[0]), session_at(seminar, WINTER[0])
    uids = {ics.registration_event_uid(r, s) for r in (registration, colleague) for s in (summer, winter)}
    assert len(uids) == 4
    assert ics.registration_event_uid(registration, summer) == ics.registration_event_uid(registration, summer)
    assert ics.session_feed_uid(summer) == f"booking-session-{summer.id}@example.org"
    assert ics.session_feed_uid(summer) not in uids


@pytest.mark.parametrize("first_name, last_name", [("Ayşe", "Çelik"), ("مريم", "الحسن"),
                                                     ("Jörg-Özgür", "Düzgün-Ağaoğlu Şahin Çakıroğlu Öztürk")])
def test_non_ascii_names_and_punctuation_round_trip(seminar, first_name, last_name):
    person = make_registration(seminar, first_name=first_name, last_name=last_name, email="p@example.net")
    summary = 'Sitzung 2/3: "Kasse, Satzung; Vorstand" – مريم\\Ümit'
    data = invite(person, session_at(seminar, SUMMER[0]), summary=summary,
                  description="Bring: Satzung, Protokoll; \"Kassenbuch\"")

    assert_wire_format(data)
    ical_cal, ical_strict, vcal = parse_everywhere(data)
    event = ical_cal.walk("VEVENT")[0]
    full_name = f"{first_name} {last_name}"
    assert event["ATTENDEE"].params["CN"] == full_name
    assert ical_strict.events[0].attendees[0].common_name == full_name
    assert vcal.vevent.attendee.params["CN"] == [full_name]
    assert event["SUMMARY"] == summary == ical_strict.events[0].summary == vcal.vevent.summary.value
    # the event links the seminar's public page (never the manage link: calendars are shared)
    public_page = f"http://127.0.0.1:5000/seminars/{seminar.slug}"
    assert event["URL"] == public_page
    expected_description = f'Bring: Satzung, Protokoll; "Kassenbuch"\n\n{public_page}'
    assert event["DESCRIPTION"] == expected_description == ical_strict.events[0].description
    assert vcal.vevent.location.value == "Haus der Vereine, Bieberer Straße 1, 63065 Offenbach am Main"


def test_seminar_title_is_the_default_summary(seminar, registration):
    _, ical_strict, vcal = parse_everywhere(invite(registration, session_at(seminar, SUMMER[0])))
    assert ical_strict.events[0].summary == TITLE == vcal.vevent.summary.value


def test_display_name_addresses_become_bare_mailto(app_ctx, seminar, registration):
    app_ctx.config["BOOKING_MAIL_SENDER"] = "Seminarbüro der Stadt <seminare@stadt.example>"
    session = session_at(seminar, SUMMER[0])
    data = invite(registration, session, attendee_email="Ayşe Çelik <ayse.celik@example.net>")

    for name in ("ORGANIZER", "ATTENDEE"):
        [line] = property_lines(data, name)
        assert "<" not in line and ">" not in line
    ical_cal, ical_strict, _ = parse_everywhere(data)
    event = ical_cal.walk("VEVENT")[0]
    assert str(event["ORGANIZER"]) == "mailto:seminare@stadt.example"
    assert event["ORGANIZER"].params["CN"] == "Integration Office"
    assert str(event["ATTENDEE"]) == "mailto:ayse.celik@example.net"
    assert event["UID"].endswith("@stadt.example")


def test_online_session_location_is_its_link(app_ctx):
    seminar = make_seminar(sessions=[SUMMER], venue_name="", venue_address="", online_url="https://meet.example/abc")
    person = make_registration(seminar)
    _, ical_strict, _ = parse_everywhere(invite(person, seminar.sessions[0]))
    assert ical_strict.events[0].location == "https://meet.example/abc"


def test_public_feed_lists_sessions_with_their_revision_and_cancellations(seminar):
    summer, winter = session_at(seminar, SUMMER[0]), session_at(seminar, WINTER[0])
    winter.status = SessionStatus.CANCELLED
    winter.revision = 2
    db.session.flush()
    data = ics.feed(seminar.sessions, name=seminar.title, now=STAMP, url=lambda s: f"https://example.org/s/{s.id}")

    assert_wire_format(data)
    ical_cal, ical_strict, vcal = parse_everywhere(data)
    assert ical_cal["METHOD"] == "PUBLISH"
    assert ical_cal["X-WR-CALNAME"] == TITLE
    by_uid = {event["UID"]: event for event in ical_cal.walk("VEVENT")}
    assert set(by_uid) == {ics.session_feed_uid(summer), ics.session_feed_uid(winter)}
    summer_event, winter_event = by_uid[ics.session_feed_uid(summer)], by_uid[ics.session_feed_uid(winter)]
    assert (winter_event["STATUS"], winter_event["SEQUENCE"]) == ("CANCELLED", 2)
    assert (summer_event["STATUS"], summer_event["SEQUENCE"]) == ("CONFIRMED", 0)
    assert summer_event["URL"] == f"https://example.org/s/{summer.id}"
    assert sorted(e.dtstart.astimezone(timezone.utc) for e in ical_strict.events) == [WINTER[0], SUMMER[0]]
    assert len(ical_cal.walk("VTIMEZONE")) == 1


def test_registration_feed_matches_the_invitations(seminar, registration):
    data = ics.registration_feed(registration, now=STAMP)
    ical_cal, _, _ = parse_everywhere(data)
    uids = sorted(str(event["UID"]) for event in ical_cal.walk("VEVENT"))
    assert uids == sorted(ics.registration_event_uid(registration, s) for s in seminar.sessions)
    assert {event["STATUS"] for event in ical_cal.walk("VEVENT")} == {"CONFIRMED"}

    registrations.cancel_registration(registration)
    db.session.flush()
    ical_cal, _, _ = parse_everywhere(ics.registration_feed(registration, now=STAMP))
    assert {(event["STATUS"], event["SEQUENCE"]) for event in ical_cal.walk("VEVENT")} == {("CANCELLED", 1)}


@pytest.mark.parametrize("zone, rules", [
    ("America/New_York", {"FREQ=YEARLY;BYDAY=2SU;BYMONTH=3", "FREQ=YEARLY;BYDAY=1SU;BYMONTH=11"}),
    ("Australia/Sydney", {"FREQ=YEARLY;BYDAY=1SU;BYMONTH=10", "FREQ=YEARLY;BYDAY=1SU;BYMONTH=4"}),
])
def test_other_zones_get_a_vtimezone_that_resolves_correctly(app_ctx, zone, rules):
    app_ctx.config["BOOKING_TIMEZONE"] = zone
    seminar = make_seminar(sessions=[WINTER, SUMMER])
    data = ics.feed(seminar.sessions, name="x", now=STAMP)
    [vtimezone] = icalendar.Calendar.from_ical(data).walk("VTIMEZONE")
    assert vtimezone["TZID"] == zone
    assert {block["RRULE"].to_ical().decode() for block in vtimezone.subcomponents if "RRULE" in block} == rules
    for times in (WINTER, SUMMER):
        single = ics.feed([s for s in seminar.sessions if s.starts_at == times[0]], name="x", now=STAMP)
        assert utc_times_in_parsers(single) == {times}
        assert utc_times_from_own_vtimezone(single) == {times}


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "Europe/Istanbul"])
def test_zones_without_summer_time_get_utc_times(app_ctx, zone):
    """A one-block VTIMEZONE without RRULE is read as UTC by `ical`; UTC times are read right by all."""
    app_ctx.config["BOOKING_TIMEZONE"] = zone
    seminar = make_seminar(sessions=[WINTER, SUMMER])
    data = ics.feed(seminar.sessions, name="x", now=STAMP)
    assert b"VTIMEZONE" not in data and b"TZID" not in data
    assert property_lines(data, "DTSTART") == [f"DTSTART:{YEAR}0114T170000Z", f"DTSTART:{YEAR}0715T160000Z"]
    for times in (WINTER, SUMMER):
        single = ics.feed([s for s in seminar.sessions if s.starts_at == times[0]], name="x", now=STAMP)
        assert utc_times_in_parsers(single) == {times}


def test_a_zone_that_changed_its_rules_between_the_sessions_falls_back_to_utc(app_ctx):
    """São Paulo had summer time until 2019: no one yearly rule fits January 2018 and January 2020."""
    app_ctx.config["BOOKING_TIMEZONE"] = "America/Sao_Paulo"
    old = (utc(2018, 1, 10, 20), utc(2018, 1, 10, 22))   # 18:00 at UTC-2
    new = (utc(2020, 1, 10, 21), utc(2020, 1, 10, 23))   # 18:00 at UTC-3
    seminar = make_seminar(sessions=[old, new])

    both = ics.feed(seminar.sessions, name="x", now=STAMP)
    assert b"VTIMEZONE" not in both and b"TZID" not in both
    assert sorted(property_lines(both, "DTSTART")) == ["DTSTART:20180110T200000Z", "DTSTART:20200110T210000Z"]
    parse_everywhere(both)

    one = ics.feed([seminar.sessions[0]], name="x", now=STAMP)  # 2018 alone still has its yearly rule
    assert property_lines(one, "DTSTART") == ["DTSTART;TZID=America/Sao_Paulo:20180110T180000"]
    assert utc_times_from_own_vtimezone(one) == {old}
