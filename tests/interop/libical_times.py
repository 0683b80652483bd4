"""Read an iCalendar object from stdin with libical (the library behind Evolution) and print JSON.

The same JSON as icaljs_times.mjs: the METHOD and, for each VEVENT, what a client takes from it,
with start and end converted to UTC. libical resolves a TZID from the VTIMEZONE in the same
object; a TZID it cannot resolve is an error here (libical would read the time as floating).

Run with Debian's interpreter, which has PyGObject (the project venv does not):
    /usr/bin/python3 tests/interop/libical_times.py < invite.ics
Needs the Debian packages gir1.2-ical-3.0 and python3-gi. The package ships two bindings, ICal
(the raw C API, which offers no way to parse a string) and ICalGLib (libical-glib, the wrapper
Evolution Data Server uses); this reads through ICalGLib.
"""
import json
import sys
from datetime import datetime, timezone

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib as ICal  # noqa: E402


def utc_iso(event, kind):
    prop = event.get_first_property(kind)
    name = prop.get_property_name()
    value = prop.get_datetime_with_component(event)
    tzid = prop.get_parameter_as_string("TZID")
    zone = value.get_timezone()
    if tzid and (zone is None or zone.get_tzid() != tzid):
        raise SystemExit(f"TZID {tzid} of {name} did not resolve (zone: {zone and zone.get_tzid()})")
    if not tzid and not value.is_utc():
        raise SystemExit(f"{name} is floating time (no TZID, no Z)")
    seconds = value.as_timet_with_zone(zone or ICal.Timezone.get_utc_timezone())
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat().replace("+00:00", "Z")


def address(prop):
    if prop is None:
        return None
    found = {"value": prop.get_value_as_string()}
    for name in ("CN", "ROLE", "PARTSTAT", "RSVP", "CUTYPE"):
        value = prop.get_parameter_as_string(name)
        if value is not None:
            found[name] = value
    return found


def properties(component, kind):
    prop = component.get_first_property(kind)
    while prop is not None:
        yield prop
        prop = component.get_next_property(kind)


def components(component, kind):
    child = component.get_first_component(kind)
    while child is not None:
        yield child
        child = component.get_next_component(kind)


def value(component, kind):
    prop = component.get_first_property(kind)
    return None if prop is None else prop.get_value_as_string()


def main():
    calendar = ICal.Component.new_from_string(sys.stdin.buffer.read().decode("utf-8"))
    if calendar is None or calendar.isa() != ICal.ComponentKind.VCALENDAR_COMPONENT:
        raise SystemExit("libical found no VCALENDAR in the input")
    kinds = ICal.PropertyKind
    events = [{
        "uid": event.get_uid(),
        "sequence": event.get_sequence(),
        "status": value(event, kinds.STATUS_PROPERTY),
        "summary": event.get_summary(),
        "start": utc_iso(event, kinds.DTSTART_PROPERTY),
        "end": utc_iso(event, kinds.DTEND_PROPERTY),
        "organizer": address(event.get_first_property(kinds.ORGANIZER_PROPERTY)),
        "attendees": [address(prop) for prop in properties(event, kinds.ATTENDEE_PROPERTY)],
    } for event in components(calendar, ICal.ComponentKind.VEVENT_COMPONENT)]
    json.dump({
        "parser": "libical",
        "method": value(calendar, kinds.METHOD_PROPERTY),
        "timezones": [value(zone, kinds.TZID_PROPERTY)
                      for zone in components(calendar, ICal.ComponentKind.VTIMEZONE_COMPONENT)],
        "events": events,
    }, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
