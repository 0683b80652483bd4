"""Finding and creating associations; their contacts, who register members as a group."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import groupby

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, bindparam
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit
from ..extensions import db
from ..registrations.models import Registration, RegistrationStatus
from ..registrations.services import Applicant, RegistrationOutcome, register_people, register_or_send_links
from ..seminars.models import Seminar, Session, SessionStatus
from ..tokens import make_token, resolve_token, revoke_tokens
from .models import (
    Association,
    AssociationContact,
    AssociationStatus,
    LegalForm,
    association_name_key,
    clean_association_name,
    contact_email_key,
)

log = logging.getLogger(__name__)

AssociationChoiceRow = Row[tuple[int, str]]  # .id, .name


def all_associations() -> list[Association]:
    """Every association, pending ones included: for the workspace, never for a public page."""
    return list(db.session.scalars(db.select(Association).order_by(Association.name_key)))


def accepted_association_choices() -> list[AssociationChoiceRow]:
    """The public list: the associations a coordinator has accepted, by name, as (id, name) rows.

    Every public form shows it: two columns, not 150 whole objects for the session to track. The
    forms take this function and call it only when they are shown (booking.forms.AssociationChoice):
    a valid POST checks the chosen id by itself and never reads the list.
    """
    return list(db.session.execute(_accepted_choices()))


@cache
def _accepted_choices():
    return (db.select(Association.id, Association.name).where(Association.status == AssociationStatus.ACCEPTED)
            .order_by(Association.name_key))


def get_accepted_association(association_id: int) -> Association | None:
    association = db.session.get(Association, association_id)
    return association if association is not None and association.is_accepted else None


def get_association(association_id: int) -> Association | None:
    return db.session.get(Association, association_id)


def find_association_by_name(name: str) -> Association | None:
    return db.session.scalar(_by_name_key(), {"name_key": association_name_key(name)})


@cache
def _by_name_key():
    """find_association_by_name's statement, built once (a registration request runs it)."""
    return db.select(Association).where(Association.name_key == bindparam("name_key"))


def find_or_create_association(
    name: str,
    *,
    district: str = "",
    legal_form: LegalForm | None = None,
    contact_email: str | None = None,
    status: AssociationStatus = AssociationStatus.PENDING,
) -> Association:
    """The association with this name (ignoring case and spaces), created if it is new.

    A new name is pending (private, not offered on the public forms) unless `status` says otherwise:
    the same name typed again finds it, so a second member of a new association joins the first.
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
        status=status,
    )
    try:
        with db.session.begin_nested():
            db.session.add(association)
    except IntegrityError:
        existing = find_association_by_name(name)
        if existing is None:
            raise
        return existing
    log.info("association created: %s (%s)", association.id, association.status.value)
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
        # the page asks each seminar whether it is open (its sessions) and names its association
        .options(selectinload(Registration.seminar).selectinload(Seminar.sessions),
                 selectinload(Registration.association))
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


# --- the office's review: accept, rename, merge; the directory ---------------------------------

class AssociationChangeRefused(Exception):
    """A review step the office cannot take; `message` is shown beside the field named by `field`."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def _lock(association: Association) -> Association:
    """Hold the association's row until the transaction ends (PostgreSQL; SQLite's writing requests
    hold the database's one write lock already), and reload it under the lock."""
    locked = db.session.scalar(
        db.select(Association).where(Association.id == association.id)
        .with_for_update().execution_options(populate_existing=True))
    if locked is None:
        raise AssociationChangeRefused(_l("This association no longer exists. It may have been merged meanwhile."))
    return locked


def accept_association(association: Association) -> bool:
    """Put a pending association into the public list; False if it was there already (a second click)."""
    association = _lock(association)
    if association.is_accepted:
        return False
    association.status = AssociationStatus.ACCEPTED
    audit.record("association.accepted", association_id=association.id, name=association.name)
    log.info("association accepted: %s", association.id)
    return True


def rename_association(association: Association, name: str, district: str = "") -> bool:
    """Correct an association's name (and district); False if nothing changed.

    A name that another association has already (ignoring case and spaces) is refused: the two
    are the same association, and the office merges them instead.
    """
    association = _lock(association)
    new_name, new_key = clean_association_name(name), association_name_key(name)
    district = " ".join(district.split())
    if not new_name:
        raise AssociationChangeRefused(_l("Please enter the name."), "name")
    other = find_association_by_name(new_name)
    if other is not None and other.id != association.id:
        raise AssociationChangeRefused(
            _l("“%(name)s” is in the directory already. To make them one association, merge this one into it.",
               name=other.name), "name")
    if new_name == association.name and district == association.district:
        return False
    old_name = association.name
    association.name, association.name_key, association.district = new_name, new_key, district
    db.session.flush()
    audit.record("association.renamed", association_id=association.id, old_name=old_name, name=new_name,
                 district=district)
    log.info("association renamed: %s", association.id)
    return True


@dataclass
class MergeResult:
    kept: Association
    registrations: int
    contacts: int


def merge_associations(merged: Association, kept: Association) -> MergeResult:
    """Make `merged` part of `kept`: its registrations and contacts move over, the merge is recorded
    in the audit log, and the merged row is deleted.

    A per-association maximum counts the kept association from now on; places already given stay.
    """
    if merged.id == kept.id:
        raise AssociationChangeRefused(_l("Please choose another association to merge into."), "into")
    # lock in id order, so two merges of the same pair the other way round cannot deadlock
    first, second = sorted((merged, kept), key=lambda a: a.id)
    first, second = _lock(first), _lock(second)
    merged, kept = (first, second) if first.id == merged.id else (second, first)
    moved_registrations = db.session.execute(
        db.update(Registration).where(Registration.association_id == merged.id)
        .values(association_id=kept.id).execution_options(synchronize_session="fetch")).rowcount
    moved_contacts = db.session.execute(
        db.update(AssociationContact).where(AssociationContact.association_id == merged.id)
        .values(association_id=kept.id).execution_options(synchronize_session="fetch")).rowcount
    if not kept.district and merged.district:
        kept.district = merged.district
    audit.record("association.merged", association_id=kept.id, name=kept.name, merged_id=merged.id,
                 merged_name=merged.name, registrations=moved_registrations, contacts=moved_contacts)
    db.session.delete(merged)
    db.session.flush()
    log.info("association %s merged into %s: %d registrations, %d contacts moved",
             merged.id, kept.id, moved_registrations, moved_contacts)
    return MergeResult(kept, moved_registrations, moved_contacts)


@dataclass
class SeminarParticipation:
    seminar: Seminar
    confirmed: int
    over: bool  # the seminar's last session has ended: these members completed it


@dataclass
class DirectoryEntry:
    association: Association
    contacts: list[AssociationContact]
    seminars: list[SeminarParticipation]
    last_participation: datetime | None

    @property
    def confirmed(self) -> int:
        return sum(row.confirmed for row in self.seminars)


def association_directory(now: datetime, *, only: Association | None = None) -> list[DirectoryEntry]:
    """Every association (or `only` one) with its contacts, its members with a place per seminar
    and the day of its last participation (the latest session held with a member holding a place);
    pending ones first, then by name. A few queries, whatever the number of associations."""
    query = db.select(Association).order_by(
        db.case((Association.status == AssociationStatus.PENDING, 0), else_=1), Association.name_key)
    if only is not None:
        query = query.where(Association.id == only.id)
    associations = list(db.session.scalars(query))
    ids = [a.id for a in associations]
    if not ids:
        return []
    contacts: dict[int, list[AssociationContact]] = {}
    for contact in db.session.scalars(
            db.select(AssociationContact).where(AssociationContact.association_id.in_(ids))
            .order_by(AssociationContact.last_name, AssociationContact.first_name, AssociationContact.id)):
        contacts.setdefault(contact.association_id, []).append(contact)

    last_end = (db.select(db.func.max(Session.ends_at))
                .where(Session.seminar_id == Seminar.id, Session.status == SessionStatus.SCHEDULED)
                .scalar_subquery())
    first_start = (db.select(db.func.min(Session.starts_at))
                   .where(Session.seminar_id == Seminar.id).scalar_subquery())
    seminars: dict[int, list[SeminarParticipation]] = {}
    for association_id, seminar, confirmed, ends in db.session.execute(
            db.select(Registration.association_id, Seminar, db.func.count(Registration.id), last_end)
            .join(Registration.seminar)
            .where(Registration.association_id.in_(ids), Registration.status == RegistrationStatus.CONFIRMED)
            .group_by(Registration.association_id, Seminar.id)
            .order_by(first_start.desc(), Seminar.id)):
        over = ends is not None and ends <= now
        seminars.setdefault(association_id, []).append(SeminarParticipation(seminar, confirmed, over))

    last = dict(db.session.execute(
        db.select(Registration.association_id, db.func.max(Session.starts_at))
        .join(Session, Session.seminar_id == Registration.seminar_id)
        .where(Registration.association_id.in_(ids), Registration.status == RegistrationStatus.CONFIRMED,
               Session.status == SessionStatus.SCHEDULED, Session.starts_at <= now)
        .group_by(Registration.association_id)).all())
    return [DirectoryEntry(a, contacts.get(a.id, []), seminars.get(a.id, []),
                           last.get(a.id)) for a in associations]


def association_history(association: Association, limit: int = 50) -> list[audit.AuditEntry]:
    """What the office did to this association (accepted, renamed, merges into it), newest first."""
    return list(db.session.scalars(
        db.select(audit.AuditEntry)
        .where(audit.AuditEntry.action.like("association.%"),
               audit.AuditEntry.detail["association_id"].as_integer() == association.id)
        .order_by(audit.AuditEntry.at.desc(), audit.AuditEntry.id.desc()).limit(limit)))


def merge_targets(association: Association) -> list[Association]:
    """The associations this one can be merged into: accepted ones first, then by name."""
    return list(db.session.scalars(
        db.select(Association).where(Association.id != association.id).order_by(
            db.case((Association.status == AssociationStatus.ACCEPTED, 0), else_=1), Association.name_key)))
