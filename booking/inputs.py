"""What anonymous visitors type, made safe before any rule or column sees it.

One place for the classes of input that once gave a 500 or let an attacker's text into the
office's emails: control characters (PostgreSQL refuses NUL; CR/LF break headers and lists),
text whose normalised form is longer than what was typed, digits from other scripts where an
id is expected, integers beyond a column's range, and names that carry web addresses.

Form fields use these as filters (`clean_line`, `clean_multiline`) and validators
(`PersonName`, `NotAWebAddress`, `FitsColumn`); anything read from a URL goes through `parse_id`.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Callable

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

# A 32-bit signed integer column (every primary key here) holds at most this.
MAX_ID = 2**31 - 1
_ASCII_ID = re.compile(r"[0-9]{1,10}")

# Format characters that reorder or hide text (bidi overrides and isolates); the joiners
# (U+200C/U+200D) stay, since Persian, Urdu and Indic names need them.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS


_LINE_BREAKS = set("\t\n\v\f\r\x85\u2028\u2029")


def clean_line(value):
    """One line of text: NFC, line breaks as spaces, control and bidi-override characters removed,
    spaces collapsed. Filters run before validators, so Length() checks what will be stored."""
    if not isinstance(value, str):
        return value
    value = unicodedata.normalize("NFC", value)
    value = "".join(" " if char in _LINE_BREAKS else char for char in value if not _is_control(char)
                    or char in _LINE_BREAKS)
    return " ".join(value.split())


def clean_multiline(value):
    """Free text over several lines (needs, say): as clean_line, but line breaks stay (as \\n)."""
    if not isinstance(value, str):
        return value
    value = unicodedata.normalize("NFC", value)
    for line_break in ("\r\n", "\r", "\x85", "\u2028", "\u2029", "\v", "\f"):
        value = value.replace(line_break, "\n")
    lines = ("".join(char for char in line if not _is_control(char)) for line in value.split("\n"))
    return "\n".join(" ".join(line.split()) for line in lines).strip()


def parse_id(text) -> int | None:
    """A positive id from a URL or form value in ASCII digits within the column's range; else None."""
    if not isinstance(text, str) or not _ASCII_ID.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


# --- validators -------------------------------------------------------------------------------

NAME_CHARACTERS_MESSAGE = _l(
    "Please use letters only, with spaces, hyphens (-), apostrophes (') or dots if your name has them."
)
WEB_ADDRESS_MESSAGE = _l("Please do not enter a web address here. After a dot in a name, leave a space.")
# (ZWNJ and ZWJ are part of the spelling of Persian, Urdu and Indic names)
_NAME_PUNCTUATION = set(" -'.\u2010\u2011\u2019\u02bc\u02bb\u200c\u200d")
# Two letters on each side of a dot without a space ("example.com", "www.x") read as a web address;
# initials ("J.R.", "A.Bakr") and titles ("Dr. Ay") do not.
_DOMAIN_LIKE = re.compile(r"[^\W\d_]{2,}\.[^\W\d_]{2,}")
_URL_LIKE = re.compile(r"(://|www\.|https?:)", re.IGNORECASE)


def looks_like_web_address(value: str) -> bool:
    return bool(_URL_LIKE.search(value) or _DOMAIN_LIKE.search(value))


class PersonName:
    """A person's name: letters of any script (with their combining marks), spaces, hyphens,
    apostrophes and dots, at least one letter, and nothing that reads as a web address."""

    def __call__(self, form, field):
        value = field.data or ""
        if not value:
            return
        if any(not (unicodedata.category(char)[0] in "LM" or char in _NAME_PUNCTUATION) for char in value) \
                or not any(unicodedata.category(char)[0] == "L" for char in value):
            raise ValidationError(NAME_CHARACTERS_MESSAGE)
        if looks_like_web_address(value):
            raise ValidationError(WEB_ADDRESS_MESSAGE)


class NotAWebAddress:
    """For names that may hold digits and signs (an association's), but not a link."""

    def __call__(self, form, field):
        if field.data and looks_like_web_address(field.data):
            raise ValidationError(WEB_ADDRESS_MESSAGE)


class FitsColumn:
    """The value and what is derived from it for the database (a lower-case key, say) fit the column.

    Length() counts what was typed; casefolding can make it longer ("ß" -> "ss"), and the key's
    column would overflow on PostgreSQL.
    """

    def __init__(self, max_length: int, derive: Callable[[str], str], message=None):
        self.max_length = max_length
        self.derive = derive
        self.message = message

    def __call__(self, form, field):
        if field.data and len(self.derive(field.data)) > self.max_length:
            raise ValidationError(self.message or _l("Please use a shorter text."))
