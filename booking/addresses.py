"""Email addresses: which we accept, the form we store, the key that says "same address", typo hints.

Our mail goes out over plain SMTP without SMTPUTF8, so an address with letters outside ASCII
before the @ could never be delivered: it is refused at input with a clear message. A domain in
another script is fine (it is sent in its ASCII form, xn--...). The key under which two spellings
are the same address is the ASCII local part in lower case and the ASCII (IDNA) domain: two
different deliverable addresses never share a key, and casefolding can never lengthen it.
"""
from __future__ import annotations

import idna
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation

EMAIL_INVALID = _l("Please enter a valid email address, for example name@example.org.")
EMAIL_NOT_ASCII = _l(
    "We can only send email to addresses with Latin letters (a–z), digits and . _ - + before the @. "
    "Please enter another address."
)


def typo_message(suggestion: str):
    return _l("Did you mean %(suggestion)s? Please correct the address, or send the form again if it is right.",
              suggestion=suggestion)


class AddressRefused(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def normalise_address(text: str) -> str:
    """The address as we store and send it (ASCII, domain in lower case), or AddressRefused."""
    text = (text or "").strip()
    if not text.isascii() and "@" in text and not text.rpartition("@")[0].isascii():
        raise AddressRefused(EMAIL_NOT_ASCII)
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise AddressRefused(EMAIL_INVALID) from None
    address = result.ascii_email
    if address is None or len(address) > 254:
        raise AddressRefused(EMAIL_INVALID)
    return address


def address_key(address: str | None) -> str | None:
    """The key under which spellings of one address are the same (see the module's docstring)."""
    if not address or not address.strip():
        return None
    local, _, domain = address.strip().rpartition("@")
    try:
        # IDNA 2008 (the idna package), as email-validator: Python's own codec is IDNA 2003,
        # which would make straße.de and strasse.de one domain
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        pass  # not a valid domain: stored addresses are normalised, so this is only a lookup that finds nothing
    return f"{local.lower()}@{domain.lower()}"


class DeliverableEmail:
    """WTForms validator: the address must be deliverable over our SMTP path; the field's data
    becomes its normalised form. Stops the chain, so later validators see a good address only."""

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            field.data = normalise_address(field.data)
        except AddressRefused as refused:
            raise StopValidation(refused.message) from None


# --- "did you mean ...?" -------------------------------------------------------------------------

# Domains most participants use (Germany and the communities the programme serves).
COMMON_DOMAINS = (
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.de", "hotmail.com", "hotmail.de", "outlook.com",
    "outlook.de", "live.com", "live.de", "msn.com", "icloud.com", "me.com", "aol.com", "web.de", "gmx.de",
    "gmx.net", "gmx.com", "t-online.de", "freenet.de", "posteo.de", "mailbox.org", "mail.de", "arcor.de",
    "online.de", "vodafone.de", "1und1.de", "proton.me", "protonmail.com", "yandex.ru", "yandex.com",
    "mail.ru", "hotmail.com.tr", "outlook.com.tr",
)


# Real domains one slip away from a common one: never "corrected".
OTHER_REAL_DOMAINS = ("gmx.at", "gmx.ch", "web.com", "mail.com", "live.fr", "live.nl", "aol.de", "me.de")
# Slips further than one letter that people make often.
KNOWN_SLIPS = {"gmail.de": "gmail.com", "gmail.com.tr": "gmail.com", "googlemail.de": "googlemail.com"}


def _one_slip(a: str, b: str) -> bool:
    """Whether `a` is one typing slip away from `b`: a letter wrong, missing or extra, or two
    neighbours swapped (an optimal string alignment distance of exactly 1), checked in one pass
    instead of filling the whole alignment table for each of the common domains."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    if len(a) == len(b):
        if a[start + 1:] == b[start + 1:]:
            return True  # one letter wrong
        # two neighbours swapped
        return (start + 1 < len(a) and a[start] == b[start + 1] and a[start + 1] == b[start]
                and a[start + 2:] == b[start + 2:])
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[start + 1:] == shorter[start:]  # one letter extra (or missing)


def suggest_address(address: str) -> str | None:
    """A likely intended address when the domain is one slip away from a common one
    (gmial.com, gmail.con, hotmial.com, wbe.de ...); None when it looks right."""
    local, _, domain = address.rpartition("@")
    domain = domain.lower()
    if not local or domain in COMMON_DOMAINS:
        return None
    if domain in KNOWN_SLIPS:
        return f"{local}@{KNOWN_SLIPS[domain]}"
    if domain in OTHER_REAL_DOMAINS:
        return None
    # one slip only: two would also turn real domains into each other (mail.com / mail.de)
    for common in COMMON_DOMAINS:
        if _one_slip(domain, common):
            return f"{local}@{common}"
    return None
