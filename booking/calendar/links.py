"""'Add to Google Calendar' and 'Outlook.com' links for one session (web calendars without a file)."""
from __future__ import annotations

from datetime import timezone
from urllib.parse import urlencode

from ..seminars.models import Session


def _location(session: Session) -> str:
    if session.seminar.online_url and not session.place_name:
        return session.seminar.online_url
    return ", ".join(part for part in (session.place_name, session.place_address) if part)


def google_calendar_url(session: Session, details: str = "") -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    start = session.starts_at.astimezone(timezone.utc).strftime(fmt)
    end = session.ends_at.astimezone(timezone.utc).strftime(fmt)
    query = urlencode({"action": "TEMPLATE", "text": session.seminar.title, "dates": f"{start}/{end}",
                       "details": details, "location": _location(session)})
    return f"https://calendar.google.com/calendar/render?{query}"


def outlook_calendar_url(session: Session, details: str = "") -> str:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    query = urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": session.seminar.title,
        "startdt": session.starts_at.astimezone(timezone.utc).strftime(fmt),
        "enddt": session.ends_at.astimezone(timezone.utc).strftime(fmt),
        "body": details, "location": _location(session),
    })
    return f"https://outlook.live.com/calendar/0/deeplink/compose?{query}"
