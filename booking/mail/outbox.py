"""Recording what participants must be told, in the transaction of the change that causes it.

Nothing here renders or sends: the dispatcher does that later, from the current state, in the
participant's language. A row per (kind, registration, session, revision) makes a duplicate
impossible; recording the same thing twice returns the existing row.

Members an association contact registered without an email address of their own are told
through the contact, and the contact gets one email per event, not one per member:

- the group registration: one overview (GROUP_REGISTERED) with every person, their status, the
  contact's link and the contact's calendar feed; no confirmation, no waiting-list email and no
  calendar invitations per member (the feed carries their sessions);
- a place from the waiting list: one PROMOTION email naming the member (it happens to one person
  at a time, and it is news the contact must pass on), again without invitations; likewise a
  late place offered to the member (OFFER) and its end (OFFER_EXPIRED);
- a session moved or cancelled, the seminar cancelled, a reminder: one MEMBERS_UPDATE per
  contact listing their members concerned;
- a cancellation (made through the contact's link): its confirmation naming the member.

Calendar messages (an update, a CANCEL) for such a member are recorded only where an invitation
was recorded before (registrations from before this rule): a calendar must never be told to
update or remove an event it was never sent.
"""
from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..associations.models import AssociationContact, LinkRequest
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..registrations.models import Registration, RegistrationStatus
from ..seminars.models import Seminar, Session
from .models import STAFF_KINDS, MessageKind, MessageStatus, OutboxMessage

log = logging.getLogger(__name__)


def through_contact(registration: Registration) -> bool:
    """A member without an address of their own: the contact who registered them hears for them."""
    return not registration.email


def recipient_for(registration: Registration) -> str:
    """Where this registration's messages go: the person's own address, else the contact who registered them."""
    if registration.email:
        return registration.email
    if registration.registered_by is None:
        raise ValueError(f"registration {registration.public_id} has no email address and no contact")
    return registration.registered_by.email


def dedupe_key(kind: MessageKind, registration: Registration, session: Session | None,
               revision: int, extra: str = "") -> str:
    session_part = str(session.id) if session is not None else "-"
    key = f"{kind.value}:{registration.id}:{session_part}:{revision}"
    return f"{key}:{extra}" if extra else key


def record(kind: MessageKind, registration: Registration, session: Session | None = None, *,
           revision: int = 0, facts: dict | None = None, extra_key: str = "",
           not_before: datetime | None = None) -> OutboxMessage:
    """The message, added to the outbox unless one with its dedupe key is there already (then that one)."""
    key = dedupe_key(kind, registration, session, revision, extra_key)
    existing = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
    if existing is not None:
        return existing
    message = OutboxMessage(
        dedupe_key=key,
        kind=kind,
        registration=registration,
        session=session,
        revision=revision,
        recipient=recipient_for(registration),
        facts=facts or {},
        next_attempt_at=not_before or utcnow(),
    )
    return _add(message)


def pending_row(kind: MessageKind, registration: Registration, session: Session | None = None, *,
                revision: int = 0, facts: dict | None = None, extra_key: str = "",
                not_before: datetime | None = None) -> dict:
    """The message `record` would add, as a row for `record_rows` (a pass recording many at once)."""
    return {"dedupe_key": dedupe_key(kind, registration, session, revision, extra_key), "kind": kind,
            "registration_id": registration.id, "contact_id": None,
            "session_id": session.id if session is not None else None, "revision": revision,
            "recipient": recipient_for(registration), "facts": facts or {}, "next_attempt_at": not_before or utcnow()}


def record_rows(rows: list[dict]) -> int:
    """Record many messages in one INSERT (rows from `pending_row`, `members_reminder_row`); one
    whose dedupe key is taken (recorded by an earlier pass, or by another worker this very moment)
    is left as it is. Returns how many were new. For a periodic job's many rows: `record` costs a
    query, a savepoint and a flush per message.

    Rows whose key is taken are dropped before the INSERT: in a worker's steady state (a pass
    every 10 seconds) nearly all of a pass's reminders were recorded by an earlier one, and on
    PostgreSQL each row offered to ON CONFLICT would still draw a sequence number. ON CONFLICT
    stays for another worker recording the same rows meanwhile.

    PostgreSQL: the rows travel as one JSON parameter that the server unpacks (`json_to_recordset`),
    with the check for taken keys in the same statement. A multi-row VALUES list (11 parameters a
    row) cost more to build, to convert for psycopg and to parse than the insert itself: 233
    reminders at city scale took about 28 ms that way, about 11 ms this way. SQLite binds values
    cheaply: one query for the keys taken, one multi-row INSERT.
    """
    if not rows:
        return 0
    table = OutboxMessage.__table__
    if db.session.get_bind().dialect.name != "postgresql":
        from sqlalchemy.dialects.sqlite import insert
        taken = set(db.session.scalars(sa.select(table.c.dedupe_key).where(
            table.c.dedupe_key.in_([row["dedupe_key"] for row in rows]))))
        rows = [row for row in rows if row["dedupe_key"] not in taken]
        if not rows:
            return 0
        statement = (insert(table).on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
                     .returning(table.c.id))
        return len(db.session.scalars(statement, rows).all())
    from sqlalchemy.dialects.postgresql import insert
    columns = [table.c[name] for name in rows[0]]
    dialect = db.session.get_bind().dialect

    def as_json(column: sa.Column, value):
        if value is not None and isinstance(column.type, UTCDateTime):
            return column.type.process_bind_param(value, dialect).isoformat()  # refuses naive ones, as a bind would
        return value

    data = [{column.name: as_json(column, row[column.name]) for column in columns} for row in rows]
    new = (sa.func.json_to_recordset(sa.bindparam("rows", data, type_=sa.JSON))
           .table_valued(*(sa.column(column.name, column.type) for column in columns))
           .render_derived(name="new", with_types=True))
    statement = (insert(table)
                 .from_select([column.name for column in columns],
                              sa.select(*(new.c[column.name] for column in columns))
                              .where(~sa.exists().where(table.c.dedupe_key == new.c.dedupe_key)))
                 .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
                 .returning(table.c.id))
    return len(db.session.scalars(statement).all())


def _add(message: OutboxMessage) -> OutboxMessage:
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        # another transaction recorded the very same message first
        return db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.dedupe_key == message.dedupe_key))
    return message


# --- an association contact's own messages ----------------------------------------------------

def group_registered(contact: AssociationContact, registrations: list[Registration], *,
                     links_sent: list[str] | None = None) -> OutboxMessage:
    """The contact registered these people: one message listing them, with the contact's link.

    `links_sent`: the names of people in the list whose address was already registered for the
    seminar; they were not registered again and got their own link by email instead.
    """
    ids = [registration.id for registration in registrations]
    facts: dict = {"registration_ids": ids}
    if links_sent:
        facts["links_sent"] = list(links_sent)
    # no savepoint (_add): the key names a registration made in this very transaction, so no other
    # transaction can have recorded it (this runs under the seminar's lock)
    message = OutboxMessage(
        dedupe_key=f"{MessageKind.GROUP_REGISTERED.value}:contact{contact.id}:{ids[0]}",
        kind=MessageKind.GROUP_REGISTERED,
        contact=contact,
        recipient=contact.email,
        facts=facts,
    )
    db.session.add(message)
    return message


def links(request: LinkRequest, contact: AssociationContact | None,
          registrations: list[Registration], *, seminar: Seminar | None = None) -> OutboxMessage:
    """Every personal link of an address in one email: asked for again, or (`seminar`) sent because
    someone tried to register the address for that seminar once more."""
    if contact is None and not registrations:
        raise ValueError("no link to send")
    facts: dict = {"registration_ids": [registration.id for registration in registrations]}
    if seminar is not None:
        facts["attempted_seminar_id"] = seminar.id
    return _add(OutboxMessage(
        dedupe_key=f"{MessageKind.LINKS.value}:{request.id}",
        kind=MessageKind.LINKS,
        contact=contact,
        registration=None if contact is not None else registrations[-1],
        recipient=contact.email if contact is not None else registrations[-1].email,
        facts=facts,
    ))


def _members_update(contact: AssociationContact, about: str, registrations: list[Registration], *,
                    seminar: Seminar, session: Session | None = None, extra_key: str = "",
                    facts: dict | None = None, not_before: datetime | None = None) -> OutboxMessage:
    """One email to a contact about their members (without an address) that one event concerns."""
    revision = session.revision if session is not None else 0
    place = f"session{session.id}" if session is not None else f"seminar{seminar.id}"
    key = f"{MessageKind.MEMBERS_UPDATE.value}:{about}:contact{contact.id}:{place}:{revision}"
    if extra_key:
        key = f"{key}:{extra_key}"
    existing = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
    if existing is not None:
        return existing
    return _add(OutboxMessage(
        dedupe_key=key,
        kind=MessageKind.MEMBERS_UPDATE,
        contact=contact,
        session=session,
        revision=revision,
        recipient=contact.email,
        facts={"about": about, "seminar_id": seminar.id,
               "registration_ids": [registration.id for registration in registrations]} | (facts or {}),
        next_attempt_at=not_before or utcnow(),
    ))


def _by_contact(registrations: list[Registration]) -> list[tuple[AssociationContact, list[Registration]]]:
    groups: dict[int, tuple[AssociationContact, list[Registration]]] = {}
    for registration in registrations:
        contact = registration.registered_by
        if contact is None:
            raise ValueError(f"registration {registration.public_id} has no email address and no contact")
        groups.setdefault(contact.id, (contact, []))[1].append(registration)
    return [groups[contact_id] for contact_id in sorted(groups)]


def _had_invitation(registration: Registration, session: Session) -> bool:
    return db.session.scalar(
        db.select(OutboxMessage.id).where(OutboxMessage.registration_id == registration.id,
                                          OutboxMessage.session_id == session.id,
                                          OutboxMessage.kind == MessageKind.INVITATION).limit(1)
    ) is not None


def _gets_calendar_messages(registration: Registration, session: Session) -> bool:
    """Whoever was sent this session's invitation for this registration gets its updates and CANCEL."""
    return not through_contact(registration) or _had_invitation(registration, session)


def _upcoming_sessions(seminar: Seminar, now: datetime) -> list[Session]:
    return [s for s in seminar.scheduled_sessions if s.ends_at > now]


def _placed(registration: Registration, *, promoted: bool, now: datetime) -> list[tuple]:
    """What a place brings, as (kind, session, revision, facts): the confirmation (the promotion
    email when it came from the waiting list) and one calendar invitation per session still to come.
    A member without an address: the promotion email to the contact only (at registration the
    contact's overview says it all); no invitations."""
    if through_contact(registration):
        return [(MessageKind.PROMOTION, None, 0, None)] if promoted else []
    return [(MessageKind.PROMOTION if promoted else MessageKind.CONFIRMATION, None, 0, None)] + [
        (MessageKind.INVITATION, session, session.revision, {"sequence": session.revision})
        for session in _upcoming_sessions(registration.seminar, now)]


def registration_confirmed(registration: Registration, *, promoted: bool = False,
                           now: datetime | None = None) -> None:
    """A place: the messages of `_placed`, each recorded once."""
    for kind, session, revision, facts in _placed(registration, promoted=promoted, now=now or utcnow()):
        record(kind, registration, session, revision=revision, facts=facts)


def registration_waitlisted(registration: Registration) -> None:
    """The waiting-list email; for a member without an address, the contact's overview says it."""
    if through_contact(registration):
        return
    record(MessageKind.WAITLISTED, registration)


def new_registration_rows(registration: Registration, *, now: datetime) -> list[dict]:
    """The messages of a registration made in this transaction, as rows for `insert_new_rows`: what
    registration_confirmed or registration_waitlisted records. No message about it can exist yet,
    here or in another transaction (the dedupe key holds its id), so nothing is looked up."""
    if registration.status == RegistrationStatus.CONFIRMED:
        messages = _placed(registration, promoted=False, now=now)
    else:
        messages = [] if through_contact(registration) else [(MessageKind.WAITLISTED, None, 0, None)]
    return [pending_row(kind, registration, session, revision=revision, facts=facts)
            for kind, session, revision, facts in messages]


def insert_new_rows(rows: list[dict]) -> None:
    """Rows of `new_registration_rows` (of one or several registrations) in one INSERT: no ORM
    object per message, nothing read back (a registration request records 2-5 messages a person)."""
    if rows:
        db.session.execute(sa.insert(OutboxMessage.__table__), rows)


def place_offered(registration: Registration) -> OutboxMessage:
    """A late place offered to someone on the waiting list: the email with the deadline and the
    personal link, where they accept or decline. A member without an address: to their contact,
    who answers through the member's link."""
    return record(MessageKind.OFFER, registration,
                  facts={"expires_at": registration.offer_expires_at.isoformat()})


def offer_expired(registration: Registration) -> OutboxMessage:
    """The place offered was not accepted in time: it went to the next person, and the registration ended."""
    return record(MessageKind.OFFER_EXPIRED, registration,
                  facts={"expires_at": registration.offer_expires_at.isoformat()})


def registration_cancelled(registration: Registration, *, was_confirmed: bool, by_office: bool = False,
                           note: str | None = None, now: datetime | None = None) -> None:
    """The registration was cancelled: a confirmation of that and, for a place, a CANCEL per session.

    `by_office`: the office cancelled it (the email says so), with `note` to the participant if given.
    """
    now = now or utcnow()
    facts = {"by": "office", "note": note or ""} if by_office else None
    record(MessageKind.REGISTRATION_CANCELLED, registration, facts=facts)
    if not was_confirmed:
        return
    for session in _upcoming_sessions(registration.seminar, now):
        if not _gets_calendar_messages(registration, session):
            continue
        # one above the last REQUEST the calendar has seen for this registration's copy of the event
        record(MessageKind.SESSION_CANCEL, registration, session, revision=session.revision,
               facts={"sequence": session.revision + 1, "by": "registration_by_office" if by_office else "participant"})


def resend(registration: Registration, *, key: str, now: datetime | None = None) -> list[OutboxMessage]:
    """The office sends a participant's emails again: new rows, so that what went out before stays in
    the email log and the unique dedupe key does not swallow the copy.

    `key` names this one request to resend (the same key twice records nothing new: a form sent
    twice does not send twice). A place: the confirmation and an invitation per session still to
    come (the same event and sequence, so a calendar keeps one entry); the waiting list: its email
    (with an open offer: the offer).
    A member without an address: the confirmation to their contact, without invitations (the
    contact's calendar feed carries their sessions). Returns the rows recorded now.
    """
    now = now or utcnow()
    extra = f"resend-{key}"
    recorded: list[OutboxMessage] = []

    def add(kind: MessageKind, session: Session | None = None, **kwargs) -> None:
        if db.session.scalar(db.select(OutboxMessage.id).where(
                OutboxMessage.dedupe_key == dedupe_key(kind, registration, session, kwargs.get("revision", 0),
                                                       extra))) is not None:
            return
        recorded.append(record(kind, registration, session, extra_key=extra, **kwargs))

    if registration.status == RegistrationStatus.CONFIRMED:
        add(MessageKind.CONFIRMATION)
        if not through_contact(registration):
            for session in _upcoming_sessions(registration.seminar, now):
                add(MessageKind.INVITATION, session, revision=session.revision, facts={"sequence": session.revision})
    elif registration.has_open_offer:
        # the place offered, with its deadline: what the person must answer now
        add(MessageKind.OFFER, facts={"expires_at": registration.offer_expires_at.isoformat()})
    elif registration.status == RegistrationStatus.WAITLISTED:
        add(MessageKind.WAITLISTED)
    return recorded


def office_message(registration: Registration, *, subject: str, body: str, key: str) -> OutboxMessage | None:
    """The office's own text to one participant (or, for a member without an address, their contact).

    `key` names the office's one sending: recording it twice for the same person returns None.
    """
    if db.session.scalar(db.select(OutboxMessage.id).where(
            OutboxMessage.dedupe_key == dedupe_key(MessageKind.OFFICE_MESSAGE, registration, None, 0, key))):
        return None
    return record(MessageKind.OFFICE_MESSAGE, registration, facts={"subject": subject, "body": body},
                  extra_key=key)


def certificate_ready(registration: Registration) -> OutboxMessage:
    """The person's certificate of attendance can be downloaded from their personal link. Recorded
    once per registration (the dedupe key has no session and no revision): recording it again
    returns the first row."""
    return record(MessageKind.CERTIFICATE_READY, registration)


def certificate_notice_recorded(registration_ids: list[int]) -> set[int]:
    """Which of these registrations have had their certificate email recorded already."""
    if not registration_ids:
        return set()
    return set(db.session.scalars(db.select(OutboxMessage.registration_id).where(
        OutboxMessage.kind == MessageKind.CERTIFICATE_READY, OutboxMessage.registration_id.in_(registration_ids))))


def confirmed_registrations(seminar: Seminar) -> list[Registration]:
    return list(db.session.scalars(
        db.select(Registration)
        .where(Registration.seminar_id == seminar.id,
               Registration.status == RegistrationStatus.CONFIRMED)
        .order_by(Registration.id)
    ))


def session_changed(session: Session, old: dict) -> int:
    """The session moved or its place changed (its revision already raised): an update to everyone on it.

    `old` holds what participants had: starts_at, ends_at (ISO strings), place. Members without
    an address: one email per contact listing them.
    """
    registrations = confirmed_registrations(session.seminar)
    through = []
    for registration in registrations:
        if not _gets_calendar_messages(registration, session):
            through.append(registration)
            continue
        record(MessageKind.INVITATION, registration, session, revision=session.revision,
               facts={"sequence": session.revision, "changed": old})
    for contact, members in _by_contact(through):
        _members_update(contact, "session_changed", members, seminar=session.seminar, session=session,
                        facts={"changed": old})
    return len(registrations)


def session_added(session: Session) -> int:
    """A session was added to a published seminar: an invitation to everyone with a place.

    Members without an address get no invitation (see registration_confirmed): their contact's
    calendar feed carries the new session. Returns how many participants are sent an invitation.
    """
    told = 0
    for registration in confirmed_registrations(session.seminar):
        if through_contact(registration):
            continue
        record(MessageKind.INVITATION, registration, session, revision=session.revision,
               facts={"sequence": session.revision})
        told += 1
    return told


def session_cancelled(session: Session, *, reason: str = "") -> int:
    """The session was cancelled (its revision already raised): a CANCEL to everyone on it.

    Members without an address: one email per contact listing them.
    """
    registrations = confirmed_registrations(session.seminar)
    through = []
    for registration in registrations:
        if not _gets_calendar_messages(registration, session):
            through.append(registration)
            continue
        record(MessageKind.SESSION_CANCEL, registration, session, revision=session.revision,
               facts={"sequence": session.revision, "by": "office", "reason": reason})
    for contact, members in _by_contact(through):
        _members_update(contact, "session_cancelled", members, seminar=session.seminar, session=session,
                        facts={"reason": reason})
    return len(registrations)


def seminar_cancelled(seminar: Seminar, sessions: list[Session], *, reason: str) -> int:
    """The whole seminar was cancelled: everyone active is told why; those with a place get a CANCEL per session.

    Members without an address: one email per contact listing them (and a CANCEL only for a
    session whose invitation had been recorded for them).
    """
    active = list(db.session.scalars(
        db.select(Registration)
        .where(Registration.seminar_id == seminar.id,
               Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)))
        .order_by(Registration.id)
    ))
    through = []
    for registration in active:
        if through_contact(registration):
            through.append(registration)
        else:
            record(MessageKind.SEMINAR_CANCELLED, registration, facts={"reason": reason})
        if registration.status == RegistrationStatus.CONFIRMED:
            for session in sessions:
                if not _gets_calendar_messages(registration, session):
                    continue
                record(MessageKind.SESSION_CANCEL, registration, session, revision=session.revision,
                       facts={"sequence": session.revision, "by": "office", "reason": reason,
                              "seminar_cancelled": True})
    for contact, members in _by_contact(through):
        _members_update(contact, "seminar_cancelled", members, seminar=seminar, facts={"reason": reason})
    return len(active)


def members_reminder_row(contact: AssociationContact, session: Session, registrations: list[Registration], *,
                         offset_key: str, offset_minutes: int) -> dict:
    """The reminder `members_reminder` would record, as a row for `record_rows`."""
    key = (f"{MessageKind.MEMBERS_UPDATE.value}:reminder:contact{contact.id}:session{session.id}:"
           f"{session.revision}:{offset_key}")
    return {"dedupe_key": key, "kind": MessageKind.MEMBERS_UPDATE, "registration_id": None, "contact_id": contact.id,
            "session_id": session.id, "revision": session.revision, "recipient": contact.email,
            "facts": {"about": "reminder", "seminar_id": session.seminar_id,
                      "registration_ids": [registration.id for registration in registrations],
                      "offset_minutes": offset_minutes},
            "next_attempt_at": utcnow()}


def members_reminder(contact: AssociationContact, session: Session, registrations: list[Registration], *,
                     offset_key: str, offset_minutes: int) -> OutboxMessage | None:
    """A reminder before a session to the contact, naming their members without an address who have a place.

    None if this reminder was recorded before (a member who got a place later is not reminded twice).
    """
    key = f"{MessageKind.MEMBERS_UPDATE.value}:reminder:contact{contact.id}:session{session.id}:{session.revision}:{offset_key}"
    if db.session.scalar(db.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None:
        return None
    return _members_update(contact, "reminder", registrations, seminar=session.seminar, session=session,
                           extra_key=offset_key, facts={"offset_minutes": offset_minutes})


# --- a staff member's own messages ------------------------------------------------------------

def staff_link(kind: MessageKind, user: User, *, token_version: int, expires_at: datetime) -> OutboxMessage:
    """A one-time link for a staff member: the invitation to set a first password, or a password reset.

    Staff mails go to the user alone: no registration, no contact, nothing of the participants'
    rules. The link is made at sending time from the facts kept here (the token version and expiry
    of the moment it was asked for); if a password was set meanwhile, the dispatcher skips it.
    """
    if kind not in STAFF_KINDS:
        raise ValueError(f"{kind} is not a staff message")
    expires = int(expires_at.timestamp())
    return _add(OutboxMessage(
        dedupe_key=f"{kind.value}:user{user.id}:{token_version}:{expires}",
        kind=kind,
        user=user,
        recipient=user.email,
        facts={"token_version": token_version, "expires_at": expires_at.isoformat()},
    ))


def latest_staff_message(kind: MessageKind, user: User, *, since: datetime) -> OutboxMessage | None:
    """The newest message of `kind` to `user` recorded since `since` that has not failed or been skipped."""
    return db.session.scalar(
        db.select(OutboxMessage)
        .where(OutboxMessage.user_id == user.id, OutboxMessage.kind == kind, OutboxMessage.created_at >= since,
               OutboxMessage.status.in_((MessageStatus.PENDING, MessageStatus.SENDING, MessageStatus.SENT)))
        .order_by(OutboxMessage.id.desc()).limit(1))
