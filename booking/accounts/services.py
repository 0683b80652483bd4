"""Creating staff accounts, checking passwords, and the links that let a user set one.

Who may be deactivated or change role is decided here, once: nobody acts on their own account
(another coordinator does), and the last active coordinator stays one, so the office can never
lock itself out of its workspace.
"""
from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from werkzeug.security import generate_password_hash

from .. import audit
from ..addresses import normalise_address
from ..database import utcnow
from ..extensions import db
from ..mail import outbox
from ..mail.models import MessageKind
from .links import LinkPurpose, expiry
from .models import Role, User, password_hash_method

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10


@functools.lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """Checked against when no user has the address, so that a login takes as long either way."""
    return generate_password_hash("not a password of anyone", method=method)


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

        check_password_hash(_dummy_hash(password_hash_method()), password)
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


# --- invitations and password resets -------------------------------------------------------------

# Asking again within this time sends nothing new: the link on its way is still good.
RESEND_AFTER = timedelta(minutes=2)
RESET_RESEND_AFTER = timedelta(minutes=10)


def invite_user(email: str, *, role: Role | str, display_name: str, now: datetime | None = None) -> User:
    """A new account without a password, and the email with the link to set one (72 hours)."""
    user = create_user(email, role=role, display_name=display_name)
    _send_invitation(user, now or utcnow())
    audit.record("user.invited", user_id=user.id, role=user.role.value)
    return user


def invitation_pending(user: User) -> bool:
    return user.password_hash is None


def resend_invitation(user: User, now: datetime | None = None) -> bool:
    """A fresh invitation link for a user who has not set a password yet. False if one went out a
    moment ago (a second click sends nothing twice)."""
    if not invitation_pending(user):
        raise AccountRefused(_l("%(name)s has set a password already.", name=user.display_name))
    if not user.active:
        raise AccountRefused(_l("This account is deactivated. Reactivate it first."))
    now = now or utcnow()
    if outbox.latest_staff_message(MessageKind.USER_INVITATION, user, since=now - RESEND_AFTER) is not None:
        return False
    _send_invitation(user, now)
    audit.record("user.invitation_resent", user_id=user.id)
    return True


def _send_invitation(user: User, now: datetime) -> None:
    outbox.staff_link(MessageKind.USER_INVITATION, user, token_version=user.token_version,
                      expires_at=expiry(LinkPurpose.INVITATION, now))
    log.info("invitation for user %s recorded", user.id)


def request_password_reset(email: str, now: datetime | None = None) -> None:
    """Send a reset link (2 hours) if an active account has this address; nothing tells the caller
    whether one has. Asked again within RESET_RESEND_AFTER, the link on its way will do."""
    now = now or utcnow()
    user = user_by_email(email) if email else None
    if user is None or not user.active:
        log.info("password reset asked for an address without an active account")
        return
    if outbox.latest_staff_message(MessageKind.PASSWORD_RESET, user, since=now - RESET_RESEND_AFTER) is not None:
        log.info("password reset for user %s asked again; the earlier link is on its way", user.id)
        return
    outbox.staff_link(MessageKind.PASSWORD_RESET, user, token_version=user.token_version,
                      expires_at=expiry(LinkPurpose.PASSWORD_RESET, now))
    log.info("password reset for user %s recorded", user.id)


def set_password_from_link(user: User, password: str, *, purpose: LinkPurpose) -> None:
    """The invitation accepted or the reset done: the new password, and this link and every other
    (and every other login session) stops working, because token_version goes up."""
    change_password(user, password)
    user.last_login_at = utcnow()
    audit.record("user.joined" if purpose == LinkPurpose.INVITATION else "user.password_reset",
                 actor=audit.Actor("user", user.id, user.display_name), user_id=user.id)


# --- managing accounts ---------------------------------------------------------------------------

def staff_list() -> list[User]:
    """Everyone with an account: active first, coordinators before trainers, by name."""
    users = list(db.session.scalars(db.select(User)))
    order = {Role.COORDINATOR: 0, Role.TRAINER: 1}
    return sorted(users, key=lambda u: (not u.active, order[u.role], u.display_name.casefold(), u.id))


def _other_active_coordinators(user: User) -> int:
    """How many active coordinators there are besides `user`, with their rows locked (PostgreSQL), so
    that two coordinators demoting each other at the same moment cannot leave none."""
    ids = list(db.session.scalars(
        db.select(User.id).where(User.role == Role.COORDINATOR, User.active.is_(True))
        .order_by(User.id).with_for_update()))
    return len([user_id for user_id in ids if user_id != user.id])


def _not_oneself(user: User, acting: User) -> None:
    if user.id == acting.id:
        raise AccountRefused(_l("You cannot change your own account here. Ask another coordinator."))


def set_active(user: User, active: bool, *, acting: User) -> bool:
    """Deactivate (every session and link of the user ends) or reactivate an account.
    Returns False when it already was so (a second click changes nothing)."""
    _not_oneself(user, acting)
    if user.active == active:
        return False
    if not active and user.role == Role.COORDINATOR and _other_active_coordinators(user) == 0:
        raise AccountRefused(_l("%(name)s is the last active coordinator and cannot be deactivated.",
                                name=user.display_name))
    user.active = active
    if not active:
        user.token_version += 1  # logged out everywhere; links sent earlier stop working
    db.session.flush()
    audit.record("user.reactivated" if active else "user.deactivated", user_id=user.id)
    log.info("user %s %s", user.id, "reactivated" if active else "deactivated")
    return True


def change_role(user: User, role: Role | str, *, acting: User) -> bool:
    """A coordinator becomes a trainer or the other way round. False when nothing changed."""
    role = Role(role)
    _not_oneself(user, acting)
    if user.role == role:
        return False
    if user.role == Role.COORDINATOR and user.active and _other_active_coordinators(user) == 0:
        raise AccountRefused(_l("%(name)s is the last active coordinator and stays one.", name=user.display_name),
                             field="role")
    previous = user.role
    user.role = role
    db.session.flush()
    audit.record("user.role_changed", user_id=user.id, old=previous.value, new=role.value)
    log.info("user %s is now %s", user.id, role)
    return True
