"""The MIME shape of our emails, and of calendar invitations in particular.

Real clients show Accept/Decline only for this shape (shared/reference/calendar-invites.md):

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; charset=utf-8; method=REQUEST   (not base64, no Content-Disposition)
      application/ics  invite.ics                      (the same bytes, for clients that only import files)

Flask-Mail 0.10 cannot produce it (its `alts` drop the `method` parameter, its attachments are
always base64), so `CalendarMessage` builds the body itself and keeps every header Flask-Mail sets.
"""
from __future__ import annotations

from email import policy
from email.charset import Charset
from email.encoders import encode_base64
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart

from flask_mail import Message

from ..calendar.ics import calendar_method

ITIP_METHODS = ("REQUEST", "CANCEL", "PUBLISH", "REPLY", "ADD", "REFRESH", "COUNTER", "DECLINECOUNTER")
INVITE_FILENAME = "invite.ics"

# Flask-Mail's envelope headers are kept; these describe its body, which is replaced.
_BODY_HEADERS = {"content-type", "mime-version", "content-transfer-encoding", "content-disposition"}
# Written by `_subject_header` instead (see there).
_REWRITTEN_HEADERS = _BODY_HEADERS | {"subject"}


class CalendarMessage(Message):
    """A Flask-Mail message with text and HTML alternatives and, optionally, an iCalendar object.

    `calendar` is the object's bytes (from booking.calendar.ics); `method` defaults to its
    METHOD and, if given, must equal it. `message_id` replaces the Message-ID Flask-Mail makes up. Without `calendar` the email is a plain
    multipart/alternative of text and HTML (multipart/mixed if files are attached).
    """

    def __init__(self, subject: str = "", recipients=None, body: str | None = None, html: str | None = None,
                 *, calendar: bytes | None = None, method: str | None = None, message_id: str | None = None,
                 **kwargs):
        super().__init__(subject=subject, recipients=recipients, body=body, html=html, **kwargs)
        if message_id is not None:
            # Flask-Mail writes msgId as the one Message-ID header; one given in extra_headers
            # would be a second one.
            self.msgId = message_id
        self.calendar = calendar
        self.method = _checked_method(calendar, method) if calendar is not None else None

    def _message(self) -> MIMEBase:
        # Flask-Mail's own message supplies the headers (From, To, Cc, Reply-To, Date, Message-ID,
        # the encoded Subject, extra_headers) and its encoded attachments.
        envelope = super()._message()
        files = envelope.get_payload()[1:] if self.attachments else []

        alternative = MIMEMultipart("alternative")
        alternative.attach(self._mimetext(self.body or "", "plain"))
        for subtype, content in self.alts.items():
            alternative.attach(self._mimetext(content, subtype))

        if self.calendar is None and not files:
            msg = alternative
        else:
            msg = MIMEMultipart("mixed")
            msg.attach(alternative)
            if self.calendar is not None:
                alternative.attach(_calendar_part(self.calendar, self.method))
                msg.attach(_calendar_file(self.calendar))
            for part in files:
                msg.attach(part)

        for name, value in envelope.items():
            if name.lower() not in _REWRITTEN_HEADERS:
                msg[name] = value
        if self.subject:
            msg["Subject"] = _subject_header(self.subject)
        msg.policy = policy.SMTP
        return msg


def _subject_header(subject: str) -> str:
    """The Subject as encoded words whose lines fit, so that it arrives exactly as it was written.

    Flask-Mail encodes it without counting "Subject: ", so a long subject with any non-ASCII
    letter came out over-long, and the SMTP policy refolded it: spaces appeared inside words and
    vanished between them. Encoded words in lines of at most 76 characters are kept as they are,
    and readers join them without the whitespace between them. ASCII text that itself looks like
    an encoded word ("=?") is encoded too, so a name cannot make the reader decode it.
    """
    if "\r" in subject or "\n" in subject:
        raise ValueError("a line break in the subject")
    if subject.isascii() and "=?" not in subject:
        return subject  # folded at spaces by the SMTP policy, which keeps ASCII text intact
    return Header(subject, "utf-8", header_name="Subject").encode()


def _checked_method(calendar: bytes, method: str | None) -> str:
    inside = calendar_method(calendar)
    if method is not None and method.upper() != inside:
        raise ValueError(f"method {method!r} differs from the calendar's METHOD:{inside}")
    if inside not in ITIP_METHODS:
        raise ValueError(f"unknown iTIP method {inside!r}")
    return inside


def _calendar_part(calendar: bytes, method: str) -> MIMENonMultipart:
    """The inline text/calendar alternative clients turn into an invitation.

    7bit or 8bit, never base64: iCalendar lines are folded at 75 octets, far under SMTP's limit.
    """
    charset = Charset("utf-8")
    charset.body_encoding = None  # 7bit when ASCII, else 8bit
    part = MIMENonMultipart("text", "calendar")
    part.set_payload(calendar.decode("utf-8"), charset)
    part.replace_header("Content-Type", f"text/calendar; charset=utf-8; method={method}")
    return part


def _calendar_file(calendar: bytes) -> MIMEBase:
    part = MIMEBase("application", "ics", name=INVITE_FILENAME)
    part.set_payload(calendar)
    encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=INVITE_FILENAME)
    return part
