"""Every personal link of an address, sent again: the "lost your link?" page, and the neutral answer
to a registration for an address that is registered already (booking.registrations.services)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ..associations.models import AssociationContact, LinkRequest, contact_email_key
from ..database import utcnow
from ..extensions import db
from ..mail import outbox
from ..seminars.models import Seminar
from .models import ACTIVE_STATUSES, Registration

log = logging.getLogger(__name__)

LINK_REQUEST_INTERVAL = timedelta(hours=1)


def request_links(email: str, *, seminar: Seminar | None = None, now: datetime | None = None) -> None:
    """Send an address every personal link it has, at most once per LINK_REQUEST_INTERVAL.

    The links: the contact link (if the address is an association contact's) and the manage
    link of each active registration with this address for a seminar not yet over, in one email.
    `seminar`: the links go out because someone tried to register the address for this seminar
    again (booking.registrations.services.register_or_send_links); the email says so.
    Returns nothing and raises nothing either way, so that the caller cannot tell (and cannot
    show) whether the address is known. The rows behind the links are locked while deciding,
    so two requests at the same moment send one email (on SQLite, the write transaction does that).
    """
    now = now or utcnow()
    key = contact_email_key(email)
    contact = db.session.scalar(
        db.select(AssociationContact).where(AssociationContact.email_key == key).with_for_update()
    )
    registrations = [
        registration for registration in db.session.scalars(
            db.select(Registration)
            .where(Registration.email_key == key, Registration.status.in_(ACTIVE_STATUSES))
            .order_by(Registration.id)
            .with_for_update(of=Registration)
        )
        if registration.seminar.last_end is not None and registration.seminar.last_end > now
    ]
    if contact is None and not registrations:
        return
    recent = db.session.scalar(
        db.select(LinkRequest.id)
        .where(LinkRequest.email_key == key, LinkRequest.requested_at > now - LINK_REQUEST_INTERVAL)
        .limit(1)
    )
    if recent is not None:
        return
    request = LinkRequest(email_key=key, requested_at=now)
    db.session.add(request)
    db.session.flush()
    outbox.links(request, contact, registrations, seminar=seminar)
    log.info("links sent again%s: contact %s, %d registrations",
             " after a repeated registration" if seminar is not None else "",
             contact.public_id if contact is not None else "-", len(registrations))
