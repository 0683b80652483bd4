"""One-time links for staff: the invitation (set a first password) and the password reset.

Signed like booking/tokens.py (HMAC-SHA256 under SECRET_KEY, older keys in SECRET_KEY_FALLBACKS
still verify), and with two differences a participant's link does not need:

- the link carries the moment it expires, covered by the MAC: an invitation is good for 72 hours,
  a reset for 2 hours, and nothing is stored to know it;
- the MAC covers the user's token_version, and setting a password raises it: a link works once,
  and every other link of that user (and every login session) ends with it.

Nothing here is stored: an email rendered later makes the same link from the facts on its outbox
row (the token version and expiry of the moment it was asked for).
"""
from __future__ import annotations

import base64
import enum
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app

from ..extensions import db
from .models import User


class LinkPurpose(enum.StrEnum):
    INVITATION = "user-invitation"
    PASSWORD_RESET = "password-reset"


VALID_FOR = {
    LinkPurpose.INVITATION: timedelta(hours=72),
    LinkPurpose.PASSWORD_RESET: timedelta(hours=2),
}


class LinkState(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"  # genuine, but too old
    INVALID = "invalid"  # unknown, tampered, used already, or the account is inactive


@dataclass(frozen=True)
class Checked:
    state: LinkState
    user: User | None = None


def _mac(key: str | bytes, purpose: str, public_id: str, version: int, expires: int) -> str:
    if isinstance(key, str):
        key = key.encode()
    message = f"booking-staff-link\x00{purpose}\x00{public_id}\x00{version}\x00{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def expiry(purpose: LinkPurpose, now: datetime) -> datetime:
    """When a link asked for at `now` stops working (to the second)."""
    return (now + VALID_FOR[purpose]).replace(microsecond=0)


def make_link_token(purpose: LinkPurpose, user: User, *, token_version: int, expires_at: datetime) -> str:
    expires = int(expires_at.timestamp())
    mac = _mac(current_app.secret_key, purpose.value, user.public_id, token_version, expires)
    return f"{user.public_id}.{expires:x}.{mac}"


def check_link_token(purpose: LinkPurpose, token: str, now: datetime) -> Checked:
    """What a link is worth now. A genuine link past its time is EXPIRED (the page says so);
    anything else that does not open an active account is INVALID."""
    parts = token.split(".")
    if len(token) > 200 or len(parts) != 3 or not all(parts):
        return Checked(LinkState.INVALID)
    public_id, expires_hex, mac = parts
    try:
        expires = int(expires_hex, 16)
    except ValueError:
        return Checked(LinkState.INVALID)
    user = db.session.scalar(db.select(User).where(User.public_id == public_id))
    if user is None or not user.active:
        return Checked(LinkState.INVALID)
    keys = [current_app.secret_key, *current_app.config.get("SECRET_KEY_FALLBACKS", [])]
    matched = False
    for key in keys:
        # compare with every key, so the timing does not tell which one matched
        matched |= hmac.compare_digest(_mac(key, purpose.value, public_id, user.token_version, expires), mac)
    if not matched:
        return Checked(LinkState.INVALID)
    if now >= datetime.fromtimestamp(expires, timezone.utc):
        return Checked(LinkState.EXPIRED)
    return Checked(LinkState.VALID, user)
