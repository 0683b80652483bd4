"""Who may do what in the workspace: one function per question, used by views and templates alike.

Coordinators may do everything. Trainers see the seminars they are assigned to, their participant
lists and attendance, and change nothing else.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user


def is_coordinator(user=None) -> bool:
    user = user or current_user
    return bool(user and user.is_authenticated and user.is_coordinator)


def can_manage(user=None) -> bool:
    """Create and change seminars, registrations, associations, users; read the email log."""
    return is_coordinator(user)


def can_manage_users(user=None) -> bool:
    """See the staff list, invite people, change roles, deactivate accounts."""
    return can_manage(user)


def can_change_account(account, user=None) -> bool:
    """Change another staff member's role or deactivate them: a coordinator, never on their own
    account (another coordinator does that, so nobody locks themselves out by a slip)."""
    user = user or current_user
    return can_manage_users(user) and account.id != user.id


def can_view_seminar(seminar, user=None) -> bool:
    """A coordinator, or the trainer assigned to this seminar."""
    user = user or current_user
    if not (user and user.is_authenticated):
        return False
    return user.is_coordinator or (seminar.trainer_user_id is not None and seminar.trainer_user_id == user.id)


def can_see_scheduling_warnings(user=None) -> bool:
    """The scheduling warnings beside a seminar's sessions: they name other seminars (a trainer's page
    would show seminars that are not theirs), and only a coordinator can act on them."""
    return can_manage(user)


def can_record_attendance(seminar, user=None) -> bool:
    """Tick a session's attendance list: a coordinator, or the seminar's trainer (in the room)."""
    return can_view_seminar(seminar, user)


def can_download_certificates(user=None) -> bool:
    """Download participants' certificates of attendance (one, or a seminar's as a ZIP file): the
    office hands them out; a trainer does not."""
    return is_coordinator(user)


def can_see_report(user=None) -> bool:
    """The funder's report and its downloads (counts of the whole programme): the office."""
    return is_coordinator(user)


def coordinator_required(view):
    """For views that change things or show everything: 403 for a trainer."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not can_manage():
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def can_view_registration(registration, user=None) -> bool:
    """A registration's page: whoever may see its seminar (a trainer reads it, changes nothing)."""
    return can_view_seminar(registration.seminar, user)


def can_change_registrations(user=None) -> bool:
    """Register by hand, cancel, move up from the waiting list, resend emails, write to participants."""
    return is_coordinator(user)
