"""Reminders before each session: ordinary emails (calendar alarms are ignored by many clients).

For each offset in BOOKING_REMINDER_OFFSETS (default "48h,3h") a confirmed participant of a
scheduled session gets one reminder, recorded in the outbox when its moment comes. A reminder
whose moment passed while no worker ran is skipped rather than sent late: it is only recorded
within a grace period after its moment (a quarter of the offset, at most 12 hours), never after
the session started, and never for a moment before the participant had their place.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import selectinload

from ..database import begin_write, utcnow
from ..extensions import db
from ..registrations.models import Registration, RegistrationStatus
from ..seminars.models import SeminarStatus, Session, SessionStatus, Seminar
from . import outbox
from .models import MessageKind

_OFFSET = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_offsets(text: str) -> list[timedelta]:
    """'48h,3h' -> [48 hours, 3 hours]; units d, h and m."""
    offsets = []
    for item in text.split(","):
        if not item.strip():
            continue
        match = _OFFSET.match(item)
        if not match:
            raise ValueError(f"BOOKING_REMINDER_OFFSETS: cannot read {item.strip()!r}; use e.g. 48h,3h or 2d,90m")
        offsets.append(timedelta(**{_UNITS[match.group(2)]: int(match.group(1))}))
    return sorted(set(offsets), reverse=True)


def grace(offset: timedelta) -> timedelta:
    return min(offset / 4, timedelta(hours=12))


def offset_key(offset: timedelta) -> str:
    return f"{int(offset.total_seconds() // 60)}m"


def schedule_reminders(now: datetime | None = None) -> int:
    """Record the reminders that are due now and not yet recorded. The caller commits."""
    now = now or utcnow()
    begin_write()
    recorded = 0
    for offset in parse_offsets(current_app.config["BOOKING_REMINDER_OFFSETS"]):
        window_start = now + offset - grace(offset)
        window_end = now + offset
        pairs = db.session.execute(
            db.select(Registration, Session)
            .join(Session, Session.seminar_id == Registration.seminar_id)
            .join(Seminar, Seminar.id == Session.seminar_id)
            .where(
                Seminar.status == SeminarStatus.PUBLISHED,
                Registration.status == RegistrationStatus.CONFIRMED,
                Session.status == SessionStatus.SCHEDULED,
                Session.starts_at > window_start,
                Session.starts_at <= window_end,
                Session.starts_at > now,
            )
            .order_by(Session.starts_at, Registration.id)
            .options(selectinload(Registration.registered_by))  # the contacts of members without an address
        ).all()
        if not pairs:
            continue
        minutes = int(offset.total_seconds() // 60)
        rows = []
        through_contact: dict[tuple[int, int], tuple[Session, list[Registration]]] = {}
        for registration, session in pairs:
            if registration.confirmed_at is not None and registration.confirmed_at > session.starts_at - offset:
                continue  # the place came after this reminder's moment
            if outbox.through_contact(registration):
                # members without an address: one reminder to their contact, naming them all
                through_contact.setdefault((registration.registered_by_contact_id, session.id),
                                           (session, []))[1].append(registration)
                continue
            rows.append(outbox.pending_row(MessageKind.REMINDER, registration, session, revision=session.revision,
                                           extra_key=offset_key(offset), facts={"offset_minutes": minutes}))
        for session, members in through_contact.values():
            rows.append(outbox.members_reminder_row(members[0].registered_by, session, members,
                                                    offset_key=offset_key(offset), offset_minutes=minutes))
        # those recorded by an earlier pass are left as they are, in the same statement
        recorded += outbox.record_rows(rows)
    return recorded
