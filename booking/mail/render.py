"""Rendering an outbox row into the email it becomes: at sending time, from the current state,
in the participant's preferred language. Facts stored on the row (an old time, a reason) are
shown as they were recorded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template, url_for
from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ..accounts.links import LinkPurpose, make_link_token
from ..accounts.models import ROLE_LABELS
from ..associations.services import contact_token
from ..calendar import ics
from ..extensions import db
from ..formatting import datetime_short, session_when
from ..languages import interface_language_or_default
from ..registrations.models import WAITLIST_REASON_MESSAGES, Registration
from ..registrations.services import coming_token, manage_token, release_token, waitlist_position, waitlist_positions
from ..seminars.models import Seminar
from .models import CALENDAR_KINDS, CONTACT_KINDS, STAFF_KINDS, MessageKind, OutboxMessage


@dataclass
class RenderedEmail:
    subject: str
    text: str
    html: str
    calendar: bytes | None = None
    method: str | None = None  # REQUEST or CANCEL, with `calendar`
    # What the email log keeps, when it must differ from what is sent: a staff member's one-time
    # link opens their account, so the log keeps the email without it.
    stored_text: str | None = None
    stored_html: str | None = None


def base_url_context():
    """A request context whose URLs point at BOOKING_BASE_URL, for rendering outside a web request."""
    return current_app.test_request_context("/", base_url=current_app.config["BOOKING_BASE_URL"])


def _subject(message: OutboxMessage) -> str:
    if message.kind == MessageKind.USER_INVITATION:
        return _("Your account for the workspace of %(office)s", office=current_app.config["BOOKING_OFFICE_NAME"])
    if message.kind == MessageKind.PASSWORD_RESET:
        return _("A new password for the workspace of %(office)s", office=current_app.config["BOOKING_OFFICE_NAME"])
    if message.kind == MessageKind.GROUP_REGISTERED:
        return _("Your registrations for your association")
    if message.kind == MessageKind.LINKS:
        return _("Your personal links")
    if message.kind == MessageKind.MEMBERS_UPDATE:
        return _members_update_subject(message)
    seminar = message.registration.seminar
    session = message.session
    when = session_when(session.starts_at, session.ends_at) if session is not None else ""
    match message.kind:
        case MessageKind.CONFIRMATION:
            return _("Your place: %(title)s", title=seminar.title)
        case MessageKind.PROMOTION:
            return _("You now have a place: %(title)s", title=seminar.title)
        case MessageKind.WAITLISTED:
            return _("Waiting list: %(title)s", title=seminar.title)
        case MessageKind.INVITATION if message.facts.get("changed"):
            return _("Changed: %(title)s, %(when)s", title=seminar.title, when=when)
        case MessageKind.INVITATION:
            return _("Invitation: %(title)s, %(when)s", title=seminar.title, when=when)
        case MessageKind.SESSION_CANCEL:
            return _("Cancelled: %(title)s, %(when)s", title=seminar.title, when=when)
        case MessageKind.REGISTRATION_CANCELLED:
            return _("Your registration is cancelled: %(title)s", title=seminar.title)
        case MessageKind.SEMINAR_CANCELLED:
            return _("Seminar cancelled: %(title)s", title=seminar.title)
        case MessageKind.REMINDER:
            return _("Reminder: %(title)s, %(when)s", title=seminar.title, when=when)
        case MessageKind.OFFER:
            return _("A place for you: %(title)s – please answer by %(deadline)s", title=seminar.title,
                     deadline=datetime_short(_deadline(message)))
        case MessageKind.OFFER_EXPIRED:
            return _("The place offered to you has been passed on: %(title)s", title=seminar.title)
        case MessageKind.CERTIFICATE_READY:
            return _("Your certificate of attendance: %(title)s", title=seminar.title)
        case MessageKind.OFFICE_MESSAGE:
            # the office's own words, as written
            return message.facts.get("subject") or _("A message about %(title)s", title=seminar.title)
    raise ValueError(f"no subject for {message.kind}")


def _subject_about(message: OutboxMessage, person: str) -> str:
    """The subject of an email to a contact about a member without an address: it says whom it is
    about, and "<name> has a place" where the member's own email would say "you"."""
    title = message.registration.seminar.title
    match message.kind:
        case MessageKind.CONFIRMATION:
            return _("%(person)s has a place: %(title)s", person=person, title=title)
        case MessageKind.PROMOTION:
            return _("%(person)s now has a place: %(title)s", person=person, title=title)
        case MessageKind.WAITLISTED:
            return _("%(person)s is on the waiting list: %(title)s", person=person, title=title)
        case MessageKind.REGISTRATION_CANCELLED:
            return _("The registration of %(person)s is cancelled: %(title)s", person=person, title=title)
        case MessageKind.OFFER:
            return _("A place for %(person)s: %(title)s – please answer by %(deadline)s", person=person,
                     title=title, deadline=datetime_short(_deadline(message)))
        case MessageKind.OFFER_EXPIRED:
            return _("The place offered to %(person)s has been passed on: %(title)s", person=person,
                     title=title)
        case MessageKind.CERTIFICATE_READY:
            return _("The certificate of attendance of %(person)s: %(title)s", person=person, title=title)
    # the contact may get the same kind of email for several members: say whose it is up front
    return _("For %(name)s: %(subject)s", name=person, subject=_subject(message))


def _members_update_subject(message: OutboxMessage) -> str:
    seminar = db.session.get(Seminar, message.facts["seminar_id"])
    session = message.session
    when = session_when(session.starts_at, session.ends_at) if session is not None else ""
    match message.facts.get("about"):
        case "session_changed":
            return _("Changed for your members: %(title)s, %(when)s", title=seminar.title, when=when)
        case "session_cancelled":
            return _("Cancelled for your members: %(title)s, %(when)s", title=seminar.title, when=when)
        case "seminar_cancelled":
            return _("Seminar cancelled: %(title)s", title=seminar.title)
        case "reminder":
            return _("Reminder for your members: %(title)s, %(when)s", title=seminar.title, when=when)
    raise ValueError(f"no subject for members update {message.facts.get('about')!r}")


def _changed(message: OutboxMessage) -> dict | None:
    changed = message.facts.get("changed")
    if not changed:
        return None
    starts = datetime.fromisoformat(changed["starts_at"])
    ends = datetime.fromisoformat(changed["ends_at"])
    session = message.session
    new_place = ", ".join(p for p in (session.place_name, session.place_address) if p)
    return {
        "old_when": session_when(starts, ends),
        "new_when": session_when(session.starts_at, session.ends_at),
        "when_changed": (starts, ends) != (session.starts_at, session.ends_at),
        "old_place": changed.get("place", ""),
        "new_place": new_place,
        "place_changed": changed.get("place", "") != new_place,
    }


def _deadline(message: OutboxMessage) -> datetime | None:
    """An offer's deadline, as it was when the offer was made."""
    expires_at = message.facts.get("expires_at")
    return datetime.fromisoformat(expires_at) if expires_at else None


def _is_first_session(seminar: Seminar, session) -> bool:
    scheduled = seminar.scheduled_sessions
    return session is not None and bool(scheduled) and scheduled[0].id == session.id


def _first_session_reminder(message: OutboxMessage) -> bool:
    """A reminder before the seminar's first session: it asks the person to confirm or release the place."""
    if message.kind != MessageKind.REMINDER or message.session is None:
        return False
    return _is_first_session(message.registration.seminar, message.session)


def _member_reply_links(message: OutboxMessage, seminar: Seminar | None,
                        registrations: list[Registration]) -> dict[int, dict[str, str]]:
    """The contact's reminder before the first session: per member with a place, the same "I am
    coming" and "release the place" links the member's own reminder would carry (signed for that
    member, each opening a page with a button)."""
    if (message.kind != MessageKind.MEMBERS_UPDATE or message.facts.get("about") != "reminder"
            or seminar is None or not _is_first_session(seminar, message.session)):
        return {}
    return {
        registration.id: {
            "coming": url_for("public.confirm_coming", token=coming_token(registration), _external=True),
            "release": url_for("public.release_place", token=release_token(registration), _external=True),
        }
        for registration in registrations if registration.can_confirm_attendance()
    }


def _offer_hours() -> dict:
    """BOOKING_OFFER_HOURS for a sentence: the number as the reader writes it ("24", "1,5") and a
    whole count for the plural form."""
    hours = float(current_app.config["BOOKING_OFFER_HOURS"])
    return {"offer_hours": format_decimal(hours, format="#,##0.#"), "offer_hours_count": math.ceil(hours)}


def _language(preferred: str) -> str:
    return interface_language_or_default(preferred)


def render_message(message: OutboxMessage, *, now: datetime | None = None) -> RenderedEmail:
    """Render the email for an outbox row. Needs a request context (see base_url_context)."""
    if message.kind in STAFF_KINDS:
        return _render_staff_message(message)
    if message.kind == MessageKind.LINKS:
        return _render_links_message(message)
    if message.kind in CONTACT_KINDS:
        return _render_contact_message(message)
    registration = message.registration
    # A member registered without an address of their own: the contact who registered them
    # reads this, in the contact's language, and is told whom it is about.
    # Its personal data deleted (booking.privacy), it is told without a name: the row knows where it goes.
    on_behalf = registration.registered_by if not registration.email and not registration.is_anonymised else None
    reader_name = on_behalf.full_name if on_behalf else registration.full_name
    language = _language(on_behalf.preferred_language if on_behalf else registration.preferred_language)
    with force_locale(language):
        token = manage_token(registration)
        context = {
            "message": message,
            "registration": registration,
            "language": language,
            "reader_name": reader_name,
            "on_behalf": on_behalf,
            "seminar": registration.seminar,
            "session": message.session,
            "facts": message.facts,
            "changed": _changed(message) if message.session is not None else None,
            "position": waitlist_position(registration),
            "manage_url": url_for("public.manage", token=token, _external=True),
            "ics_url": url_for("calendar.registration_feed", token=token, _external=True),
            # the contact's calendar of their members' sessions (members without an address get no invitations)
            "feed_url": url_for("associations.contact_feed", token=contact_token(on_behalf), _external=True)
            if on_behalf else None,
            # a member with an address of their own, registered by a contact: they are told who did it
            "registered_by": registration.registered_by if registration.email else None,
            "office_name": current_app.config["BOOKING_OFFICE_NAME"],
            "deadline": _deadline(message),
            # the waiting-list email says how long a late place offered may be accepted
            **_offer_hours(),
            # the reminder before the first session: "I am coming" and "release my place", one click
            # each to a page with a button (booking.public.views)
            "coming_url": url_for("public.confirm_coming", token=coming_token(registration), _external=True)
            if _first_session_reminder(message) else None,
            "release_url": url_for("public.release_place", token=release_token(registration), _external=True)
            if _first_session_reminder(message) else None,
        }
        template = f"emails/{message.kind.value}"
        subject = _subject_about(message, registration.full_name) if on_behalf else _subject(message)
        rendered = RenderedEmail(
            subject=subject,
            text=render_template(f"{template}.txt", **context),
            html=render_template(f"{template}.html", **context),
        )
        if message.kind in CALENDAR_KINDS:
            build = ics.invitation if message.kind == MessageKind.INVITATION else ics.cancellation
            rendered.method = "REQUEST" if message.kind == MessageKind.INVITATION else "CANCEL"
            rendered.calendar = build(
                registration, message.session,
                sequence=int(message.facts.get("sequence", message.revision)),
                attendee_email=message.recipient,
                attendee_name=reader_name,
                summary=_("%(title)s – %(name)s", title=registration.seminar.title, name=registration.full_name)
                if on_behalf else None,
                now=now,
            )
    return rendered


def _render_contact_message(message: OutboxMessage) -> RenderedEmail:
    """An association contact's own message: the group they registered, or their link again."""
    contact = message.contact
    language = _language(contact.preferred_language)
    with force_locale(language):
        ids = message.facts.get("registration_ids", [])
        registrations = list(db.session.scalars(
            db.select(Registration).where(Registration.id.in_(ids)).order_by(Registration.id)
        )) if ids else []
        seminar_id = message.facts.get("seminar_id")
        seminar = (db.session.get(Seminar, seminar_id) if seminar_id is not None
                   else registrations[0].seminar if registrations else None)
        positions = waitlist_positions(registrations)  # one query for the whole group
        context = {
            "message": message,
            "contact": contact,
            "language": language,
            "seminar": seminar,
            # the reminder before the first session: "coming" / "release" per member
            "member_links": _member_reply_links(message, seminar, registrations),
            "people": [(r, positions.get(r.id), WAITLIST_REASON_MESSAGES.get(r.waitlist_reason))
                       for r in registrations],
            # people in the group whose address was registered already: they got their link by email
            "links_sent": message.facts.get("links_sent", []),
            "session": message.session,
            "facts": message.facts,
            "changed": _changed(message) if message.session is not None else None,
            "contact_url": url_for("associations.contact", token=contact_token(contact), _external=True),
            "feed_url": url_for("associations.contact_feed", token=contact_token(contact), _external=True),
            "office_name": current_app.config["BOOKING_OFFICE_NAME"],
        }
        template = f"emails/{message.kind.value}"
        return RenderedEmail(
            subject=_subject(message),
            text=render_template(f"{template}.txt", **context),
            html=render_template(f"{template}.html", **context),
        )


def _render_links_message(message: OutboxMessage) -> RenderedEmail:
    """Every personal link of one address, asked for again on the "lost your link?" page."""
    contact = message.contact
    ids = message.facts.get("registration_ids", [])
    # each link names its seminar and first date: loaded with the rows, not once per link
    registrations = list(db.session.scalars(
        db.select(Registration).where(Registration.id.in_(ids)).order_by(Registration.id)
        .options(selectinload(Registration.seminar).selectinload(Seminar.sessions))
    )) if ids else []
    reader = contact if contact is not None else registrations[-1]
    language = _language(reader.preferred_language)
    with force_locale(language):
        attempted = message.facts.get("attempted_seminar_id")
        positions = waitlist_positions(registrations)  # one query for every link
        context = {
            "message": message,
            "language": language,
            "reader_name": reader.full_name,
            # sent because someone tried to register this address for that seminar again
            "attempted_seminar": db.session.get(Seminar, attempted) if attempted is not None else None,
            "links": [{"registration": r, "position": positions.get(r.id),
                       "url": url_for("public.manage", token=manage_token(r), _external=True)}
                      for r in registrations],
            "contact_url": url_for("associations.contact", token=contact_token(contact), _external=True)
            if contact is not None else None,
            "office_name": current_app.config["BOOKING_OFFICE_NAME"],
        }
        return RenderedEmail(
            subject=_subject(message),
            text=render_template("emails/links.txt", **context),
            html=render_template("emails/links.html", **context),
        )


def _render_staff_message(message: OutboxMessage) -> RenderedEmail:
    """A staff member's one-time link: an invitation to the workspace or a password reset.

    The link is made from the facts of the moment it was asked for; the email log keeps the
    email with the link left out (whoever reads the log must not be able to open the account).
    """
    user = message.user
    language = _language(user.preferred_language)
    invitation = message.kind == MessageKind.USER_INVITATION
    purpose = LinkPurpose.INVITATION if invitation else LinkPurpose.PASSWORD_RESET
    expires_at = datetime.fromisoformat(message.facts["expires_at"])
    with force_locale(language):
        token = make_link_token(purpose, user, token_version=int(message.facts["token_version"]),
                                expires_at=expires_at)
        endpoint = "accounts.accept_invitation" if invitation else "accounts.reset_password"
        context = {
            "message": message,
            "user": user,
            "role_label": str(ROLE_LABELS[user.role]),
            "language": language,
            "expires_at": expires_at,
            "login_url": url_for("accounts.login", _external=True),
            "forgot_url": url_for("accounts.forgot_password", _external=True),
            "office_name": current_app.config["BOOKING_OFFICE_NAME"],
        }
        template = f"emails/{message.kind.value}"
        link_url = url_for(endpoint, token=token, _external=True)
        rendered = RenderedEmail(
            subject=_subject(message),
            text=render_template(f"{template}.txt", link_url=link_url, **context),
            html=render_template(f"{template}.html", link_url=link_url, **context),
        )
        rendered.stored_text = render_template(f"{template}.txt", link_url=None, **context)
        rendered.stored_html = render_template(f"{template}.html", link_url=None, **context)
    return rendered
