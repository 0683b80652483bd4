"""The calendar objects booking sends, read by the parsers real clients use.

ical.js (Thunderbird's calendar) and libical (Evolution) run as separate programs from
tests/interop/; each prints what it read as JSON, with times converted to UTC from the object's
own VTIMEZONE. Both scripts refuse a TZID they cannot resolve, so a missing or unusable
VTIMEZONE fails here instead of turning into floating time. libical also knows Europe/Berlin
from the system zone database; the tests with the TZID renamed to Booking/Berlin leave both
parsers nothing but our VTIMEZONE.

Needs node with `npm ci --prefix tests/interop` (make install runs it) and Debian's
/usr/bin/python3 with gir1.2-ical-3.0 and python3-gi. A missing tool fails the tests with the
command that installs it.
"""
from __future__ import annotations

import calendar as month_calendar
import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from booking.calendar import ics
from booking.extensions import db
from booking.registrations import services as registrations
from booking.seminars.models import SessionStatus

from tests.calendar_support import STAMP, SUMMER, WINTER, YEAR, invite, invite_move_cancel, session_at
from tests.factories import make_registration, make_seminar, utc

INTEROP = Path(__file__).parent / "interop"
ICALJS_SCRIPT = INTEROP / "icaljs_times.mjs"
LIBICAL_SCRIPT = INTEROP / "libical_times.py"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with PyGObject; the project venv has no gi

BERLIN = ZoneInfo("Europe/Berlin")
TITLE = "Vereinsrecht: Satzung, Vorstand; „Kasse“ – مريم"
PARSERS = ("ical.js", "libical")


class ParserRefused(Exception):
    """A parser script exited with an error (for example a TZID it could not resolve)."""


def _last_sunday(year: int, month: int) -> int:
    days = month_calendar.monthrange(year, month)[1]
    return max(day for day in range(days - 6, days + 1) if month_calendar.weekday(year, month, day) == 6)


def _berlin(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(YEAR, month, day, hour, minute, tzinfo=BERLIN)


# --- The two parsers -------------------------------------------------------------------------------

def _tool_problems() -> list[str]:
    problems = []
    node = shutil.which("node")
    if node is None:
        problems.append("node is missing: apt-get install -y nodejs npm, then npm ci --prefix tests/interop")
    else:
        installed = INTEROP / "node_modules" / "ical.js" / "package.json"
        locked = json.loads((INTEROP / "package-lock.json").read_text())["packages"]["node_modules/ical.js"]["version"]
        if not installed.exists():
            problems.append("ical.js is not installed: npm ci --prefix tests/interop (make install runs it)")
        elif json.loads(installed.read_text())["version"] != locked:
            problems.append(f"ical.js differs from package-lock.json ({locked}): npm ci --prefix tests/interop")
    if not Path(SYSTEM_PYTHON).exists():
        problems.append(f"{SYSTEM_PYTHON} is missing: apt-get install -y python3 python3-gi gir1.2-ical-3.0")
    else:
        probe = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('ICalGLib', '3.0'); from gi.repository import ICalGLib"],
            capture_output=True, text=True, timeout=30)
        if probe.returncode != 0:
            last_line = (probe.stderr.strip().splitlines() or ["?"])[-1]
            problems.append(f"libical for {SYSTEM_PYTHON} is missing ({last_line}): "
                            "apt-get install -y gir1.2-ical-3.0 python3-gi")
    return problems


def _command(name: str) -> list[str]:
    return {"ical.js": [shutil.which("node") or "node", str(ICALJS_SCRIPT)],
            "libical": [SYSTEM_PYTHON, str(LIBICAL_SCRIPT)]}[name]


@pytest.fixture(scope="session")
def clients():
    """`read(data)`: what ical.js and libical read from an iCalendar object, by parser name."""
    problems = _tool_problems()
    if problems:
        pytest.fail("The client parsers for tests/test_calendar_interop.py are not installed:\n  "
                    + "\n  ".join(problems), pytrace=False)

    def read(data: bytes) -> dict[str, dict]:
        return {name: _run(name, data) for name in PARSERS}

    return read


def _run(name: str, data: bytes) -> dict:
    done = subprocess.run(_command(name), input=data, capture_output=True, timeout=30)
    if done.returncode != 0:
        raise ParserRefused(f"{name}: {done.stderr.decode('utf-8', 'replace').strip()}")
    return json.loads(done.stdout)


def utc_times(result: dict) -> list[tuple[datetime, datetime]]:
    return [(datetime.fromisoformat(event["start"]), datetime.fromisoformat(event["end"]))
            for event in result["events"]]


def times_in_both(read, data: bytes) -> dict[str, list[tuple[datetime, datetime]]]:
    return {name: utc_times(result) for name, result in read(data).items()}


def renamed_tzid(data: bytes) -> bytes:
    """The object with Europe/Berlin renamed in every TZID, so only its own VTIMEZONE can resolve it."""
    assert b"TZID:Europe/Berlin\r\n" in data and b"TZID=Europe/Berlin:" in data
    return data.replace(b"Europe/Berlin", b"Booking/Berlin")


def without_vtimezone(data: bytes) -> bytes:
    stripped, count = re.subn(rb"BEGIN:VTIMEZONE\r\n.*?END:VTIMEZONE\r\n", b"", data, flags=re.DOTALL)
    assert count == 1
    return stripped


# --- Objects ---------------------------------------------------------------------------------------

@pytest.fixture
def seminar(app_ctx):
    return make_seminar(sessions=[WINTER, SUMMER], title=TITLE)


@pytest.fixture
def registration(seminar):
    return make_registration(seminar, first_name="مريم", last_name="Çelik-Ağaoğlu", email="meryem@example.net")


# --- Times -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rename", [False, True], ids=["Europe/Berlin", "renamed-tzid"])
@pytest.mark.parametrize("times, utc_hour", [(SUMMER, 16), (WINTER, 17)], ids=["july", "january"])
def test_an_evening_in_berlin_is_read_at_the_right_utc_time(clients, seminar, registration, times, utc_hour, rename):
    data = invite(registration, session_at(seminar, times[0]))
    assert f"DTSTART;TZID=Europe/Berlin:{YEAR}{times[0]:%m%d}T180000".encode() in data
    if rename:
        data = renamed_tzid(data)

    results = clients(data)
    for name in PARSERS:
        assert results[name]["timezones"] == ["Booking/Berlin" if rename else "Europe/Berlin"], name
        assert utc_times(results[name]) == [times], name
    assert times[0].hour == utc_hour


@pytest.mark.parametrize("month, first_day_hours, second_day_hours", [
    (10, (18, 16), (10, 9)),   # Saturday 18:00 CEST = 16:00 UTC; Sunday 10:00 CET = 09:00 UTC
    (3, (18, 17), (10, 8)),    # Saturday 18:00 CET = 17:00 UTC; Sunday 10:00 CEST = 08:00 UTC
], ids=["october", "march"])
def test_a_session_across_the_change_of_clocks(clients, app_ctx, month, first_day_hours, second_day_hours):
    """A Saturday-to-Sunday session over the night the clocks change, and the evenings around it."""
    change_day = _last_sunday(YEAR, month)
    (local_start, utc_start), (local_end, utc_end) = first_day_hours, second_day_hours
    across = (_berlin(month, change_day - 1, local_start), _berlin(month, change_day, local_end))
    before = (_berlin(month, change_day - 1, 9), _berlin(month, change_day - 1, 12))
    after = (_berlin(month, change_day, 18), _berlin(month, change_day, 20))
    seminar = make_seminar(sessions=[before, across, after], title=TITLE)
    expected = [
        (utc(YEAR, month, change_day - 1, 9 - before[0].utcoffset().seconds // 3600),
         utc(YEAR, month, change_day - 1, 12 - before[0].utcoffset().seconds // 3600)),
        (utc(YEAR, month, change_day - 1, utc_start), utc(YEAR, month, change_day, utc_end)),
        (utc(YEAR, month, change_day, 18 - after[0].utcoffset().seconds // 3600),
         utc(YEAR, month, change_day, 20 - after[0].utcoffset().seconds // 3600)),
    ]
    assert before[0].utcoffset() != after[0].utcoffset()
    data = ics.feed(seminar.sessions, name="x", now=STAMP)
    assert f"DTSTART;TZID=Europe/Berlin:{YEAR}{month:02}{change_day - 1:02}T{local_start}0000".encode() in data

    for variant in (data, renamed_tzid(data)):
        assert times_in_both(clients, variant) == {name: expected for name in PARSERS}


def test_a_session_in_the_repeated_hour_is_read_at_the_right_utc_time(clients, app_ctx):
    """02:30 occurs twice on the October change night: a local time with TZID cannot say which one.

    RFC 5545 (and icalendar) take the first occurrence, ical.js and libical the second, so such
    times must be written in UTC. This one starts at 02:30 CEST and ends at 02:30 CET.
    """
    change_day = _last_sunday(YEAR, 10)
    times = (utc(YEAR, 10, change_day, 0, 30), utc(YEAR, 10, change_day, 1, 30))
    seminar = make_seminar(sessions=[times])
    data = ics.feed(seminar.sessions, name="x", now=STAMP)

    assert times_in_both(clients, data) == {name: [times] for name in PARSERS}
    assert f"DTSTART:{YEAR}10{change_day}T003000Z".encode() in data
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert (event.decoded("dtstart"), event.decoded("dtend")) == times


@pytest.mark.parametrize("rename", [False, True], ids=["Europe/Berlin", "renamed-tzid"])
def test_a_wrong_vtimezone_rule_shows_in_both_parsers(clients, seminar, registration, rename):
    """Both parsers compute from our VTIMEZONE: summer time starting in August moves July by an hour."""
    data = invite(registration, session_at(seminar, SUMMER[0]))
    tampered = data.replace(b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=8")
    assert tampered != data
    if rename:
        tampered = renamed_tzid(tampered)
    hour_late = (SUMMER[0] + timedelta(hours=1), SUMMER[1] + timedelta(hours=1))
    assert times_in_both(clients, tampered) == {name: [hour_late] for name in PARSERS}


def test_a_tzid_without_vtimezone_is_refused_by_the_scripts(clients, seminar, registration):
    """The scripts let no parser fall back to floating time or to a zone database of its own."""
    data = without_vtimezone(invite(registration, session_at(seminar, SUMMER[0])))
    renamed = data.replace(b"TZID=Europe/Berlin:", b"TZID=Booking/Berlin:")
    for tzid, variant in (("Europe/Berlin", data), ("Booking/Berlin", renamed)):
        for name in PARSERS:
            with pytest.raises(ParserRefused, match=rf"^{re.escape(name)}: TZID {tzid} of DTSTART did not resolve"):
                _run(name, variant)


def test_icalendars_rdate_vtimezone_is_misread_by_icaljs(clients, seminar, registration):
    """Why ics.py writes its own two-block VTIMEZONE instead of icalendar's add_missing_timezones().

    ical.js takes only the first value of a multi-value RDATE, so with that form an 18:00 session
    in July comes out at 17:00 UTC. If this fails after an ical.js update, the reason is gone.
    """
    cal = icalendar.Calendar.from_ical(without_vtimezone(invite(registration, session_at(seminar, SUMMER[0]))))
    cal.add_missing_timezones()
    data = cal.to_ical()
    assert re.search(rb"RDATE:[0-9T]+,", data)

    found = times_in_both(clients, data)
    assert found["libical"] == [SUMMER]
    assert found["ical.js"] == [(SUMMER[0] + timedelta(hours=1), SUMMER[1] + timedelta(hours=1))]


# --- What a client shows and answers to ----------------------------------------------------------

def test_an_invitation_reads_back_as_sent(clients, seminar, registration):
    session = session_at(seminar, SUMMER[0])
    results = clients(invite(registration, session, sequence=3))

    for name in PARSERS:
        result = results[name]
        assert result["method"] == "REQUEST", name
        [event] = result["events"]
        assert event["uid"] == ics.registration_event_uid(registration, session), name
        assert (event["sequence"], event["status"]) == (3, "CONFIRMED"), name
        assert event["summary"] == TITLE, name
        assert event["organizer"] == {"value": "mailto:seminars@example.org", "CN": "Integration Office"}, name
        assert event["attendees"] == [{"value": "mailto:meryem@example.net", "CN": "مريم Çelik-Ağaoğlu",
                                       "CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT",
                                       "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"}], name


def test_an_explicit_summary_with_escapes_round_trips(clients, seminar, registration):
    summary = 'Sitzung 2/3: "Kasse, Satzung; Vorstand" – مريم\\Ümit'
    results = clients(invite(registration, session_at(seminar, SUMMER[0]), summary=summary))
    assert [results[name]["events"][0]["summary"] for name in PARSERS] == [summary, summary]


def test_an_update_and_the_cancellation_read_back_as_the_same_event(clients, seminar, registration):
    session = session_at(seminar, SUMMER[0])
    first, update, cancel = invite_move_cancel(registration, session)

    read = [clients(data) for data in (first, update, cancel)]
    uid = ics.registration_event_uid(registration, session)
    moved = (SUMMER[0] + timedelta(hours=1), SUMMER[1] + timedelta(hours=1))
    for name in PARSERS:
        results = [r[name] for r in read]
        assert [r["method"] for r in results] == ["REQUEST", "REQUEST", "CANCEL"], name
        events = [r["events"][0] for r in results]
        assert [e["uid"] for e in events] == [uid] * 3, name
        assert [(e["sequence"], e["status"]) for e in events] == [(0, "CONFIRMED"), (1, "CONFIRMED"),
                                                                  (2, "CANCELLED")], name
        assert [utc_times(r) for r in results] == [[SUMMER], [moved], [moved]], name
        assert events[2]["organizer"]["value"] == "mailto:seminars@example.org", name
        assert [a["value"] for a in events[2]["attendees"]] == ["mailto:meryem@example.net"], name


# --- Feeds -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rename", [False, True], ids=["Europe/Berlin", "renamed-tzid"])
def test_a_feed_reads_back_with_its_cancelled_session(clients, app_ctx, rename):
    autumn = (utc(YEAR, 11, 4, 17), utc(YEAR, 11, 4, 19, 30))  # 18:00 CET
    seminar = make_seminar(sessions=[WINTER, SUMMER, autumn], title=TITLE)
    cancelled = session_at(seminar, SUMMER[0])
    cancelled.status = SessionStatus.CANCELLED
    cancelled.revision = 2
    db.session.flush()
    data = ics.feed(seminar.sessions, name=seminar.title, now=STAMP)
    if rename:
        data = renamed_tzid(data)

    expected = sorted((ics.session_feed_uid(s), s.revision, "CANCELLED" if s is cancelled else "CONFIRMED",
                       s.starts_at, s.ends_at) for s in seminar.sessions)
    results = clients(data)
    for name in PARSERS:
        assert results[name]["method"] == "PUBLISH", name
        assert len(results[name]["events"]) == 3, name
        found = sorted((e["uid"], e["sequence"], e["status"], start, end)
                       for e, (start, end) in zip(results[name]["events"], utc_times(results[name])))
        assert found == expected, name
        assert {e["summary"] for e in results[name]["events"]} == {TITLE}, name


def test_a_cancelled_registrations_feed_reads_back_cancelled(clients, seminar, registration):
    uids = sorted(ics.registration_event_uid(registration, s) for s in seminar.sessions)
    before = clients(ics.registration_feed(registration, now=STAMP))
    registrations.cancel_registration(registration)
    db.session.flush()
    after = clients(ics.registration_feed(registration, now=STAMP))

    for name in PARSERS:
        assert sorted((e["uid"], e["sequence"], e["status"]) for e in before[name]["events"]) == [
            (uid, 0, "CONFIRMED") for uid in uids], name
        assert sorted((e["uid"], e["sequence"], e["status"]) for e in after[name]["events"]) == [
            (uid, 1, "CANCELLED") for uid in uids], name
        assert sorted(utc_times(after[name])) == [WINTER, SUMMER], name
