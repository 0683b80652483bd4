"""Creating staff accounts, checking passwords, and the links that let a user set one."""
from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from werkzeug.security import generate_password_hash

from ..addresses import normalise_address
from ..database import utcnow
from ..extensions import db
from .models import Role, User

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
# Checked against when no user has the address, so that a login takes as long either way.
_DUMMY_HASH = generate_password_hash("not a password of anyone", method="scrypt")


class AccountRefused(Exception):
    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def password_problem(password: str) -> str | None:
    """Why a password will not do, or None. Long beats complicated: only a minimum length."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("Please use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH)
    if len(password) > 200:
        return _l("Please use at most %(max)d characters.", max=200)
    return None


def user_by_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.email_key == User.key_for(email)))


def create_user(email: str, *, role: Role | str, display_name: str = "", password: str | None = None) -> User:
    """A new staff account; without a password it waits for the user to set one (invitation)."""
    address = normalise_address(email)
    if user_by_email(address) is not None:
        raise AccountRefused(_l("There is already an account with this email address."), field="email")
    if password is not None and (problem := password_problem(password)):
        raise AccountRefused(problem, field="password")
    user = User(email=address, email_key=User.key_for(address), role=Role(role),
                display_name=(display_name or address.partition("@")[0]).strip()[:200])
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    log.info("user %s created (%s)", user.id, user.role)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this address and password, or None; as slow for an unknown address."""
    user = user_by_email(email) if email else None
    if user is None or user.password_hash is None:
        from werkzeug.security import check_password_hash

        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def change_password(user: User, password: str) -> None:
    """A new password; every other session of the user ends (its identity carries token_version)."""
    if problem := password_problem(password):
        raise AccountRefused(problem, field="password")
    user.set_password(password)
    user.token_version += 1
    db.session.flush()
    log.info("user %s changed their password", user.id)


def load_user(identity: str) -> User | None:
    """Flask-Login's user loader: "<public id>:<token version>" from the session cookie."""
    public_id, _, version = identity.partition(":")
    if not version.isascii() or not version.isdigit():
        return None
    user = db.session.scalar(db.select(User).where(User.public_id == public_id))
    if user is None or user.token_version != int(version) or not user.active:
        return None
    return user
