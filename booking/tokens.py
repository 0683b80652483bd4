"""Personal links that are derived, never stored.

A link token is `<public id>.<MAC>`: the MAC is HMAC-SHA256 over purpose, public id and a
per-row token version, keyed with SECRET_KEY (older keys in SECRET_KEY_FALLBACKS still verify,
so the key can be rotated). A copy of the database alone opens no link, any email rendered later
can carry the link again, and raising the row's token version revokes every earlier link.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Protocol, TypeVar

from flask import current_app

from .extensions import db


class Linkable(Protocol):
    public_id: str
    token_version: int


T = TypeVar("T", bound=Linkable)


def _mac(key: str | bytes, purpose: str, public_id: str, version: int) -> str:
    if isinstance(key, str):
        key = key.encode()
    message = f"booking-link\x00{purpose}\x00{public_id}\x00{version}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_token(purpose: str, row: Linkable) -> str:
    return f"{row.public_id}.{_mac(current_app.secret_key, purpose, row.public_id, row.token_version)}"


def resolve_token(purpose: str, token: str, model: type[T], *, options=()) -> T | None:
    """The row of `model` the token opens, or None for any wrong, tampered or revoked token.

    `options`: loader options for the query (what the page opened with the link shows next)."""
    public_id, dot, mac = token.partition(".")
    if not dot or not public_id or not mac or len(token) > 200:
        return None
    row = db.session.scalar(db.select(model).where(model.public_id == public_id).options(*options))
    if row is None:
        return None
    keys = [current_app.secret_key, *current_app.config.get("SECRET_KEY_FALLBACKS", [])]
    matched = False
    for key in keys:
        # compare with every key, so the timing does not tell which one matched
        matched |= hmac.compare_digest(_mac(key, purpose, row.public_id, row.token_version), mac)
    return row if matched else None


def revoke_tokens(row: Linkable) -> None:
    """Every link made for this row so far stops working; new ones work."""
    row.token_version += 1
    db.session.flush()
