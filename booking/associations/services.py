"""Finding and creating associations; their contacts, who register members as a group."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..registrations.models import Registration
from ..registrations.services import Applicant, RegistrationOutcome, register_people, register_or_send_links
from ..seminars.models import Seminar, Session
from ..tokens import make_token, resolve_token, revoke_tokens
from .models import (
    Association,
    AssociationContact,
    LegalForm,
    association_name_key,
    clean_association_name,
    contact_email_key,
)

log = logging.getLogger(__name__)


def all_associations() -> list[Association]:
    return list(db.session.scalars(db.select(Association).order_by(Association.name_key)))


def get_association(association_id: int) -> Association | None:
    return db.session.get(Association, association_id)


def find_association_by_name(name: str) -> Association | None:
    return db.session.scalar(
        db.select(Association).where(Association.name_key == association_name_key(name))
    )


def find_or_create_association(
    name: str,
    *,
    district: str = "",
    legal_form: LegalForm | None = None,
    contact_email: str | None = None,
) -> Association:
    """The association with this name (ignoring case and spaces), created if it is new.

    Two people typing the same new name at the same moment end up with one association:
    the loser of the race rolls back to a savepoint and takes the winner's row.
    """
    existing = find_association_by_name(name)
    if existing is not None:
        return existing
    association = Association(
        name=clean_association_name(name),
        name_key=association_name_key(name),
        district=district.strip(),
        legal_form=legal_form,
        contact_email=contact_email,
    )
    try:
        with db.session.begin_nested():
            db.session.add(association)
    except IntegrityError:
        existing = find_association_by_name(name)
        if existing is None:
            raise
        return existing
    log.info("association created: %s", association.name)
    return association


# --- association contacts ----------------------------------------------------------------------

CONTACT_TOKEN_PURPOSE = "contact"


@dataclass
class ContactDetails:
    """The person registering a group, as entered in the form."""

    first_name: str
    last_name: str
    email: str
    phone: str | None = None
    preferred_language: str = "de"


def find_contact_by_email(email: str) -> AssociationContact | None:
    return db.session.scalar(
        db.select(AssociationContact).where(AssociationContact.email_key == contact_email_key(email))
    )


def find_or_create_contact(details: ContactDetails, association: Association | None) -> AssociationContact:
    """The contact with this email address, created if new.

    An existing contact's details are not changed from a form anyone can send; only a missing
    association is filled in. Two first registrations with the same address at the same moment
    end up with one contact (the loser of the race takes the winner's row).
    """
    existing = find_contact_by_email(details.email)
    if existing is not None:
        if existing.association is None and association is not None:
            existing.association = association
        return existing
    contact = AssociationContact(
        association=association,
        first_name=details.first_name.strip(),
        last_name=details.last_name.strip(),
        email=details.email.strip(),
        email_key=contact_email_key(details.email),
        phone=(details.phone or "").strip() or None,
        preferred_language=details.preferred_language,
    )
    try:
        with db.session.begin_nested():
            db.session.add(contact)
    except IntegrityError:
        existing = find_contact_by_email(details.email)
        if existing is None:
            raise
        return existing
    log.info("association contact created: %s", contact.public_id)
    return contact


def register_group(seminar: Seminar, contact: ContactDetails | AssociationContact, applicants: list[Applicant],
                   association: Association | None, *, now: datetime | None = None) -> list[Registration]:
    """A contact registers members of their association, in one decision under the seminar's lock.

    `contact` is the form's details (a new or known contact, by email address) or, from the
    contact's own page, the contact itself. Raises RegistrationRefused (with `index` naming the
    person) and stores nothing if anyone is refused, an address already registered included;
    the caller rolls back then. The group form uses register_group_or_send_links.
    """
    if isinstance(contact, ContactDetails):
        contact = find_or_create_contact(contact, association)
    return register_people(seminar, applicants, association, registered_by=contact, now=now)


def register_group_or_send_links(
    seminar: Seminar,
    contact: ContactDetails | AssociationContact,
    applicants: list[Applicant],
    association: Association | None | Callable[[], Association | None],
    *,
    now: datetime | None = None,
) -> RegistrationOutcome:
    """The group form: as register_group, but a member whose address is already registered for the
    seminar is not registered again and gets their personal links by email instead (at most once
    an hour), without anyone being told why. A contact or association typed with a form that
    registered nobody is not kept (see register_or_send_links)."""
    def contact_for(chosen: Association | None) -> AssociationContact:
        if isinstance(contact, AssociationContact):
            return contact
        return find_or_create_contact(contact, chosen)

    return register_or_send_links(seminar, applicants, association, registered_by=contact_for, now=now)


def contact_token(contact: AssociationContact) -> str:
    return make_token(CONTACT_TOKEN_PURPOSE, contact)


def contact_for_token(token: str) -> AssociationContact | None:
    return resolve_token(CONTACT_TOKEN_PURPOSE, token, AssociationContact)


def revoke_contact_links(contact: AssociationContact) -> None:
    revoke_tokens(contact)


def contact_registrations(contact: AssociationContact) -> list[Registration]:
    """Every registration this contact made, seminar by seminar (latest seminar first), in registration order."""
    first_start = (
        db.select(db.func.min(Session.starts_at)).where(Session.seminar_id == Seminar.id).scalar_subquery()
    )
    return list(db.session.scalars(
        db.select(Registration)
        .join(Registration.seminar)
        .where(Registration.registered_by_contact_id == contact.id)
        .order_by(first_start.desc(), Seminar.id, Registration.id)
    ))


def contact_registrations_by_seminar(contact: AssociationContact) -> list[tuple[Seminar, list[Registration]]]:
    return [(seminar, list(rows))
            for seminar, rows in groupby(contact_registrations(contact), key=lambda r: r.seminar)]


def contact_registration(contact: AssociationContact, public_id: str) -> Registration | None:
    """One of this contact's registrations, or None (also for someone else's)."""
    return db.session.scalar(
        db.select(Registration).where(Registration.public_id == public_id,
                                      Registration.registered_by_contact_id == contact.id)
    )
