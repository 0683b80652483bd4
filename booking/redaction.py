"""Personal links taken out of whatever is kept: stored emails, log lines, tracebacks.

A personal link (a participant's manage link, an association contact's link, a staff member's
one-time invitation or password link) opens personal data or an account to whoever holds it.
The email sent carries it; nothing that is kept afterwards may: the email log keeps the email
with the token replaced by REDACTED, and every log record goes through `redact` before any
handler sees it (`install_log_redaction`, called by the app factory).

What counts as a token: the path part after one of the personal prefixes below, when it has the
shape of a link token (`<public id>.<MAC>`, or `<public id>.<expiry>.<MAC>` for staff links),
so that the workspace's own paths (/admin/registrations/12, .../registrations/new) stay readable.
A `.ics` after the token (the personal feeds) is kept. Email addresses are redacted in log
records too, as a second line of defence: no log line should name one in the first place.
"""
from __future__ import annotations

import logging
import re
import traceback

REDACTED = "[link removed]"
ADDRESS_REDACTED = "[address removed]"

# the path prefixes of every personal link (booking/public, booking/associations, booking/accounts);
# `/registrations/` of the workspace (/admin/registrations/<id>) is no personal link
_PREFIX = (r"(?:(?<!/admin)/registrations/|/associations/contact/|/admin/password/reset/|/admin/invitation/"
           r"|(?<!%2Fadmin)%2Fregistrations%2F|%2Fassociations%2Fcontact%2F|%2Fadmin%2Fpassword%2Freset%2F"
           r"|%2Fadmin%2Finvitation%2F)")
# a token: URL-safe characters with at least one dot (public id, [expiry,] MAC)
_TOKEN = r"[A-Za-z0-9_~-]*(?:\.[A-Za-z0-9_~-]+)+"
_LINK = re.compile(rf"(?P<prefix>{_PREFIX})(?P<token>{_TOKEN})", re.IGNORECASE)
_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _replace_link(match: re.Match) -> str:
    token = match["token"]
    suffix = ".ics" if token.lower().endswith(".ics") and token.count(".") > 1 else ""
    return f"{match['prefix']}{REDACTED}{suffix}"


def redact(text: str | None) -> str | None:
    """`text` with the token of every personal link replaced by REDACTED (None stays None)."""
    if not text:
        return text
    return _LINK.sub(_replace_link, text)


def redact_calendar(text: str | None) -> str | None:
    """An iCalendar text with its personal links redacted, also where a line fold splits one.

    Calendar objects carry the seminar's public page, not a personal link (booking/calendar/ics.py);
    this is for what is kept all the same. A text with a link is kept unfolded (still valid iCalendar).
    """
    if not text:
        return text
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    redacted = redact(unfolded)
    return text if redacted == unfolded else redacted


def redact_for_log(text: str) -> str:
    """Personal links and email addresses taken out of a log line."""
    return _ADDRESS.sub(ADDRESS_REDACTED, redact(text) or "")


class RedactingFilter(logging.Filter):
    """Rewrites a record so that neither its message nor its traceback names a token or an address."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the format: logging reports that itself
        return
    cleaned = redact_for_log(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact_for_log(text)
    if record.stack_info:
        record.stack_info = redact_for_log(record.stack_info)


_redacting_filter = RedactingFilter()


def install_log_redaction() -> None:
    """Make every log record of this process pass RedactingFilter as it is created.

    A filter on a logger applies only to records logged on that very logger (not to those of its
    children), and one on a handler only to that handler; the record factory sees every record
    (the app's modules, werkzeug's request lines, gunicorn's access log, any library), before any
    handler, pytest's caplog included. Installing it twice changes nothing.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_personal_links", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        _redacting_filter.filter(record)
        return record

    factory.redacts_personal_links = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
