"""A staff member who logs in to the workspace: a coordinator (everything) or a trainer (their seminars)."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ..addresses import address_key
from ..database import UTCDateTime, str_enum, utcnow
from ..extensions import db



def password_hash_method() -> str:
    """werkzeug's method string for new password hashes (BOOKING_PASSWORD_HASH_METHOD)."""
    if has_app_context():
        return current_app.config.get("BOOKING_PASSWORD_HASH_METHOD") or "scrypt"
    return "scrypt"

class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    TRAINER = "trainer"


ROLE_LABELS = {Role.COORDINATOR: _l("Coordinator"), Role.TRAINER: _l("Trainer")}


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # public_id and token_version make one-time links (invitation, password reset) and the
    # login session's identity: raising token_version logs the user out everywhere.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: secrets.token_urlsafe(12))
    token_version: Mapped[int] = mapped_column(default=1)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    # None until an invited user has set their password.
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    preferred_language: Mapped[str] = mapped_column(String(8), default="de")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"

    # Flask-Login: the session remembers public_id and token_version, so a password change or a
    # deactivation ends every other session of this user.
    def get_id(self) -> str:
        return f"{self.public_id}:{self.token_version}"

    @property
    def is_active(self) -> bool:  # noqa: D401  (Flask-Login's name)
        return self.active

    @property
    def is_coordinator(self) -> bool:
        return self.role == Role.COORDINATOR

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    @staticmethod
    def key_for(email: str) -> str:
        return address_key(email) or ""
