"""'Add to Google Calendar' and 'Outlook.com' links for one session (web calendars without a file)."""
from __future__ import annotations

from datetime import timezone
from urllib.parse import urlencode

from ..registrations.models import Registration
from ..seminars.models import Session
from .ics import session_location


def _location(session: Session, registration: Registration | None) -> str:
    return session_location(session, registration.meeting_link if registration is not None else None)


def google_calendar_url(session: Session, registration: Registration | None = None, details: str = "") -> str:
    """A link that adds `session` to Google Calendar; with the meeting link if `registration` may see it."""
    fmt = "%Y%m%dT%H%M%SZ"
    start = session.starts_at.astimezone(timezone.utc).strftime(fmt)
    end = session.ends_at.astimezone(timezone.utc).strftime(fmt)
    query = urlencode({"action": "TEMPLATE", "text": session.seminar.title, "dates": f"{start}/{end}",
                       "details": details, "location": _location(session, registration)})
    return f"https://calendar.google.com/calendar/render?{query}"


def outlook_calendar_url(session: Session, registration: Registration | None = None, details: str = "") -> str:
    """A link that adds `session` to Outlook.com; with the meeting link if `registration` may see it."""
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    query = urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": session.seminar.title,
        "startdt": session.starts_at.astimezone(timezone.utc).strftime(fmt),
        "enddt": session.ends_at.astimezone(timezone.utc).strftime(fmt),
        "body": details, "location": _location(session, registration),
    })
    return f"https://outlook.live.com/calendar/0/deeplink/compose?{query}"
