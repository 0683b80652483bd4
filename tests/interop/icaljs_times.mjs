// Reads an iCalendar object from stdin with ical.js (the parser of Thunderbird's calendar) and
// prints JSON: the METHOD and, for each VEVENT, what a client would take from it, with the start
// and end converted to UTC. Times resolve only through the object's own VTIMEZONE components,
// registered with ICAL.TimezoneService as a client does; a TZID that does not resolve is an error
// (ical.js would silently read the time as floating local time).
// Usage: node tests/interop/icaljs_times.mjs < invite.ics
import ICAL from "ical.js";

function readStdin() {
    return new Promise((resolve, reject) => {
        const chunks = [];
        process.stdin.on("data", (chunk) => chunks.push(chunk));
        process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        process.stdin.on("error", reject);
    });
}

function utcIso(property) {
    const time = property.getFirstValue();
    const tzid = property.getParameter("tzid");
    if (tzid && time.zone.tzid !== tzid) {
        throw new Error(`TZID ${tzid} of ${property.name.toUpperCase()} did not resolve (zone: ${time.zone.tzid})`);
    }
    if (!tzid && time.zone !== ICAL.Timezone.utcTimezone) {
        throw new Error(`${property.name.toUpperCase()} is floating time (no TZID, no Z)`);
    }
    return new Date(time.toUnixTime() * 1000).toISOString();
}

function address(property) {
    if (!property) {
        return null;
    }
    const parameters = {};
    for (const name of ["cn", "role", "partstat", "rsvp", "cutype"]) {
        const value = property.getParameter(name);
        if (value !== undefined) {
            parameters[name.toUpperCase()] = value;
        }
    }
    return { value: property.getFirstValue(), ...parameters };
}

function read(text) {
    const calendar = new ICAL.Component(ICAL.parse(text));
    ICAL.TimezoneService.reset();
    for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
        ICAL.TimezoneService.register(vtimezone);
    }
    return {
        parser: "ical.js",
        method: calendar.getFirstPropertyValue("method"),
        timezones: calendar.getAllSubcomponents("vtimezone").map((zone) => zone.getFirstPropertyValue("tzid")),
        events: calendar.getAllSubcomponents("vevent").map(event),
    };
}

function event(vevent) {
    return {
        uid: vevent.getFirstPropertyValue("uid"),
        sequence: vevent.getFirstPropertyValue("sequence"),
        status: vevent.getFirstPropertyValue("status"),
        summary: vevent.getFirstPropertyValue("summary"),
        start: utcIso(vevent.getFirstProperty("dtstart")),
        end: utcIso(vevent.getFirstProperty("dtend")),
        organizer: address(vevent.getFirstProperty("organizer")),
        attendees: vevent.getAllProperties("attendee").map(address),
    };
}

try {
    process.stdout.write(JSON.stringify(read(await readStdin()), null, 1) + "\n");
} catch (error) {
    // One line, like the libical script: the tests match on it.
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
}
